package ca

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/url"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

// Backdate is how far before its issue time a certificate's NotBefore is set, so that a peer
// whose clock is a little behind still accepts it.
const Backdate = time.Minute

// generation is one CA: certificate and, while it may sign, its key.
type generation struct {
	kid  string
	cert *x509.Certificate
	key  *privateKey // nil once retired or when only the certificate is trusted
}

// newGeneration creates a fresh Ed25519 CA for td valid from now for lifetime.
func newGeneration(td spiffeid.TrustDomain, now time.Time, lifetime time.Duration) (*generation, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	key := newPrivateKey(priv)
	kid := KeyID(pub)
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	tdURL, err := url.Parse(td.ID().String())
	if err != nil {
		return nil, fmt.Errorf("trust domain URI: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"Meshwarden"}, CommonName: "Meshwarden CA " + td.String() + " " + kid[:8]},
		NotBefore:             now.Add(-Backdate),
		NotAfter:              now.Add(lifetime),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		URIs:                  []*url.URL{tdURL},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key.k())
	if err != nil {
		return nil, fmt.Errorf("self-sign CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse new CA certificate: %w", err)
	}
	return &generation{kid: kid, cert: cert, key: key}, nil
}

// checkGeneration verifies that cert is an Ed25519 CA of td, self-consistent with key if given.
func checkGeneration(td spiffeid.TrustDomain, cert *x509.Certificate, key *privateKey) (*generation, error) {
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("CA certificate key is %T, want Ed25519", cert.PublicKey)
	}
	if !cert.IsCA || !cert.BasicConstraintsValid {
		return nil, fmt.Errorf("certificate %q is not a CA", cert.Subject)
	}
	if key != nil && !key.public().Equal(pub) {
		return nil, fmt.Errorf("CA key does not match CA certificate %q", cert.Subject)
	}
	for _, u := range cert.URIs {
		if id, err := spiffeid.Parse(u.String()); err == nil && id.TrustDomain() != td {
			return nil, fmt.Errorf("CA certificate belongs to trust domain %q, want %q", id.TrustDomain(), td)
		}
	}
	return &generation{kid: KeyID(pub), cert: cert, key: key}, nil
}

// lifetime returns the generation's validity span.
func (g *generation) lifetime() time.Duration { return g.cert.NotAfter.Sub(g.cert.NotBefore) }

func serialNumber() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("certificate serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}
