package ca

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

// Root is one trusted CA certificate of a bundle.
type Root struct {
	KeyID       string // RFC 7638 thumbprint of an Ed25519 key; "" for other key types
	Certificate *x509.Certificate
}

// Bundle is an immutable set of trusted CA certificates of one trust domain: the X.509 roots that
// verify node certificates and, for Ed25519 roots, the keys (by key id) that verify credentials.
// A new Bundle is made for every change, so readers never lock.
type Bundle struct {
	td    spiffeid.TrustDomain
	roots []Root
	byKID map[string]int
	pool  *x509.CertPool
}

// NewBundle returns the bundle of the given CA certificates. Duplicates (same raw certificate)
// are dropped; a certificate that is not a CA is refused.
func NewBundle(td spiffeid.TrustDomain, certs ...*x509.Certificate) (*Bundle, error) {
	if td.IsZero() {
		return nil, fmt.Errorf("bundle: empty trust domain")
	}
	b := &Bundle{td: td, byKID: map[string]int{}, pool: x509.NewCertPool()}
	for _, c := range certs {
		if slices.ContainsFunc(b.roots, func(r Root) bool { return bytes.Equal(r.Certificate.Raw, c.Raw) }) {
			continue
		}
		if !c.IsCA || !c.BasicConstraintsValid {
			return nil, fmt.Errorf("bundle: certificate %q is not a CA", c.Subject)
		}
		r := Root{Certificate: c}
		if pub, ok := c.PublicKey.(ed25519.PublicKey); ok {
			r.KeyID = KeyID(pub)
			b.byKID[r.KeyID] = len(b.roots)
		}
		b.roots = append(b.roots, r)
		b.pool.AddCert(c)
	}
	return b, nil
}

// TrustDomain returns the bundle's trust domain.
func (b *Bundle) TrustDomain() spiffeid.TrustDomain { return b.td }

// Key returns the credential-verifying key with id kid, if the bundle holds it and its CA
// certificate is valid at now.
func (b *Bundle) Key(kid string, now time.Time) (ed25519.PublicKey, bool) {
	i, ok := b.byKID[kid]
	if !ok {
		return nil, false
	}
	c := b.roots[i].Certificate
	if now.Before(c.NotBefore) || !now.Before(c.NotAfter) {
		return nil, false
	}
	return c.PublicKey.(ed25519.PublicKey), true
}

// Pool returns the roots as an x509 pool. Callers must not modify it.
func (b *Bundle) Pool() *x509.CertPool { return b.pool }

// Roots returns a copy of the bundle's roots.
func (b *Bundle) Roots() []Root { return slices.Clone(b.roots) }

// KeyIDs returns the key ids of the bundle's Ed25519 roots.
func (b *Bundle) KeyIDs() []string {
	ids := make([]string, 0, len(b.byKID))
	for _, r := range b.roots {
		if r.KeyID != "" {
			ids = append(ids, r.KeyID)
		}
	}
	return ids
}

// PEM returns the bundle's certificates, PEM-encoded, for distribution to peers.
func (b *Bundle) PEM() []byte {
	var out []byte
	for _, r := range b.roots {
		out = append(out, encodeCertPEM(r.Certificate.Raw)...)
	}
	return out
}

// ParseBundlePEM returns the bundle of the PEM certificates in data.
func ParseBundlePEM(td spiffeid.TrustDomain, data []byte) (*Bundle, error) {
	certs, err := parseCertsPEM(data)
	if err != nil {
		return nil, fmt.Errorf("parse bundle: %w", err)
	}
	return NewBundle(td, certs...)
}

// Source gives the current bundle. *Authority is one; verifiers and TLS configurations ask it on
// every use, so a rotation reaches them without a restart.
type Source interface {
	Bundle() *Bundle
}

// Static is a Source that always returns the same bundle.
type Static struct{ B *Bundle }

// Bundle returns s.B.
func (s Static) Bundle() *Bundle { return s.B }
