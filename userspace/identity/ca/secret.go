package ca

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
)

// redacted is what every formatting of key material prints.
const redacted = "[redacted]"

// privateKey holds an Ed25519 private key inside a closure. fmt and slog print a func as an
// address whatever the verb and however deep in a struct it sits, so no formatting of any value
// that holds a privateKey can reach the key bytes; the type itself also formats as redacted.
type privateKey struct{ k func() ed25519.PrivateKey }

func newPrivateKey(k ed25519.PrivateKey) *privateKey {
	return &privateKey{k: func() ed25519.PrivateKey { return k }}
}

func (*privateKey) String() string                { return redacted }
func (*privateKey) GoString() string              { return redacted }
func (*privateKey) LogValue() slog.Value          { return slog.StringValue(redacted) }
func (*privateKey) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, redacted) }
func (*privateKey) MarshalText() ([]byte, error)  { return []byte(redacted), nil }
func (p *privateKey) public() ed25519.PublicKey   { return p.k().Public().(ed25519.PublicKey) }
func (p *privateKey) sign(msg []byte) []byte      { return ed25519.Sign(p.k(), msg) }
