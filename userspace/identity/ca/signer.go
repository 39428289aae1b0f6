package ca

import (
	"fmt"
	"log/slog"
	"time"
)

// Signer signs credentials with one CA generation's key. It is what the credential issuer asks
// the authority for on every issue, so a rotation takes effect on the next credential.
type Signer struct {
	kid       string
	notBefore time.Time
	notAfter  time.Time
	key       *privateKey
}

// KeyID returns the `kid` of what this signer signs.
func (s *Signer) KeyID() string { return s.kid }

// NotAfter returns the end of the signing CA's validity: nothing it signs may outlive it.
func (s *Signer) NotAfter() time.Time { return s.notAfter }

// Sign returns the Ed25519 signature of msg.
func (s *Signer) Sign(msg []byte) []byte { return s.key.sign(msg) }

// String prints the signer's key id only.
func (s *Signer) String() string { return "CA signer " + s.kid }

// Format prints the signer as String does, whatever the verb.
func (s *Signer) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, s.String()) }

// LogValue keeps a signer in a log line down to its key id.
func (s *Signer) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Signer returns the active generation's signer, or an error when it is not valid now.
func (a *Authority) Signer() (*Signer, error) {
	g := a.st.Load().active
	now := a.clock.Now()
	if g.key == nil {
		return nil, fmt.Errorf("CA %s has no key", g.kid)
	}
	if now.Before(g.cert.NotBefore) || !now.Before(g.cert.NotAfter) {
		return nil, fmt.Errorf("CA %s is not valid at %s (valid %s to %s): rotate it", g.kid, now.UTC().Format(time.RFC3339), g.cert.NotBefore.UTC().Format(time.RFC3339), g.cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return &Signer{kid: g.kid, notBefore: g.cert.NotBefore, notAfter: g.cert.NotAfter, key: g.key}, nil
}
