package ca

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net/url"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

// IssueNodeCertificate signs, with the active CA, an X.509 SVID for the node enforcer id whose
// key is pub: its only URI SAN is id, it may authenticate both TLS clients and servers, it is
// valid from Backdate before now for lifetime, and never past the CA's own NotAfter.
func (a *Authority) IssueNodeCertificate(id spiffeid.ID, pub crypto.PublicKey, lifetime time.Duration) (*x509.Certificate, error) {
	if id.Kind() != spiffeid.KindNode || id.TrustDomain() != a.td {
		return nil, fmt.Errorf("issue node certificate: %q is not a node id of trust domain %q", id, a.td)
	}
	if lifetime <= 0 {
		return nil, fmt.Errorf("issue node certificate for %s: lifetime %v", id, lifetime)
	}
	g := a.st.Load().active
	now := a.clock.Now()
	if g.key == nil || now.Before(g.cert.NotBefore) || !now.Before(g.cert.NotAfter) {
		return nil, fmt.Errorf("issue node certificate for %s: CA %s cannot sign at %s", id, g.kid, now.UTC().Format(time.RFC3339))
	}
	u, err := url.Parse(id.String())
	if err != nil {
		return nil, fmt.Errorf("issue node certificate: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	node, _ := id.Node()
	notBefore := now.Add(-Backdate)
	if notBefore.Before(g.cert.NotBefore) {
		notBefore = g.cert.NotBefore
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"Meshwarden"}, CommonName: node},
		NotBefore:             notBefore,
		NotAfter:              minTime(now.Add(lifetime), g.cert.NotAfter),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{u},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, g.cert, pub, g.key.k())
	if err != nil {
		return nil, fmt.Errorf("issue node certificate for %s: %w", id, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse node certificate for %s: %w", id, err)
	}
	a.log.Debug("issued node certificate", "node", id.String(), "kid", g.kid, "serial", cert.SerialNumber.Text(16), "not_after", cert.NotAfter)
	return cert, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
