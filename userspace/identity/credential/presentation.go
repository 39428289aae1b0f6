package credential

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

// BindingLabel is the TLS exporter label of the presentation MAC key.
const BindingLabel = "EXPORTER-meshwarden-credential-binding-v1"

// macContext prefixes every presentation MAC input.
const macContext = "meshwarden presentation v1\x00"

// maxExchangeIDLen bounds a presentation's exchange id.
const maxExchangeIDLen = 128

// Binding is the per-connection key that ties presentations to one tunnel connection. It is
// secret: every formatting prints "[redacted]".
type Binding struct{ key func() []byte }

// BindingFromTLS derives the binding of a TLS connection (both ends derive the same one).
func BindingFromTLS(cs tls.ConnectionState) (Binding, error) {
	key, err := cs.ExportKeyingMaterial(BindingLabel, nil, 32)
	if err != nil {
		return Binding{}, fmt.Errorf("derive credential binding from TLS: %w", err)
	}
	return Binding{key: func() []byte { return key }}, nil
}

// NewBinding returns a binding with a given 32-byte key, for transports other than crypto/tls
// and for tests.
func NewBinding(key []byte) (Binding, error) {
	if len(key) != 32 {
		return Binding{}, fmt.Errorf("credential binding: key of %d bytes, want 32", len(key))
	}
	k := append([]byte(nil), key...)
	return Binding{key: func() []byte { return k }}, nil
}

// IsZero reports whether b holds no key.
func (b Binding) IsZero() bool { return b.key == nil }

func (Binding) String() string                { return "[redacted]" }
func (Binding) GoString() string              { return "[redacted]" }
func (Binding) LogValue() slog.Value          { return slog.StringValue("[redacted]") }
func (Binding) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, "[redacted]") }
func (b Binding) mac(digest *[32]byte, req string) []byte {
	m := hmac.New(sha256.New, b.key())
	m.Write([]byte(macContext))
	m.Write(digest[:])
	m.Write([]byte(req))
	return m.Sum(nil)
}

// Presentation is what one request carries to the receiving enforcer:
// <credential>~<request part>~<mac>. It is a bearer secret of the tunnel: String, Format and
// LogValue print only its request id.
type Presentation struct {
	value string
	jti   string
}

// Value returns the wire form, for the tunnel's stream header.
func (p Presentation) Value() string { return p.value }

// ID returns the presentation's one-time id.
func (p Presentation) ID() string { return p.jti }

func (p Presentation) String() string             { return "presentation " + p.jti }
func (p Presentation) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, p.String()) }
func (p Presentation) LogValue() slog.Value       { return slog.StringValue(p.String()) }

// requestPart is the one-time part of a presentation.
type requestPart struct {
	Jti string `json:"jti"`
	Iat int64  `json:"iat"` // milliseconds since the epoch
	Aud string `json:"aud"` // the receiving node's SPIFFE id
	Xid string `json:"xid,omitempty"`
	Att string `json:"att,omitempty"` // Request.Measurement
}

// Request is what a presentation says of the one request it is made for, besides the
// credential. The presenting node vouches for it as for the credential: it is MAC'd with the
// binding of the connection whose TLS peer must be the credential's issuing node.
type Request struct {
	ExchangeID string // links the two ends' audit records; may be empty
	// Measurement is sha256:<hex> of the executable of the agent process that made the request
	// (measured when it connected), "" when not measured. The credential's own measurement is
	// the agent's at issue time; an agent may run more than one process.
	Measurement string
}

// Present makes the presentation of c for one request r at now, to the enforcer of node
// audience, over the connection of binding b.
func (c *Credential) Present(now time.Time, b Binding, audience spiffeid.ID, r Request) (Presentation, error) {
	if b.IsZero() {
		return Presentation{}, errors.New("present credential: no connection binding")
	}
	if audience.Kind() != spiffeid.KindNode {
		return Presentation{}, fmt.Errorf("present credential: audience %q is not a node id", audience)
	}
	if err := validExchangeID(r.ExchangeID); err != nil {
		return Presentation{}, fmt.Errorf("present credential: %w", err)
	}
	if r.Measurement != "" && !validMeasurement(r.Measurement) {
		return Presentation{}, errors.New("present credential: measurement is not sha256:<64 lower-case hex digits>")
	}
	req := requestPart{Jti: newJTI(), Iat: now.UnixMilli(), Aud: audience.String(), Xid: r.ExchangeID, Att: r.Measurement}
	raw, err := json.Marshal(req)
	if err != nil {
		return Presentation{}, fmt.Errorf("present credential: %w", err)
	}
	reqB64 := b64.EncodeToString(raw)
	mac := b.mac(&c.digest, reqB64)
	var sb strings.Builder
	sb.Grow(len(c.token) + len(reqB64) + 46)
	sb.WriteString(c.token)
	sb.WriteByte('~')
	sb.WriteString(reqB64)
	sb.WriteByte('~')
	sb.WriteString(b64.EncodeToString(mac))
	return Presentation{value: sb.String(), jti: req.Jti}, nil
}

func validExchangeID(s string) error {
	if len(s) > maxExchangeIDLen {
		return fmt.Errorf("exchange id longer than %d bytes", maxExchangeIDLen)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e {
			return errors.New("exchange id must be printable ASCII without spaces")
		}
	}
	return nil
}
