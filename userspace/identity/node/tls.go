package node

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/meshwarden/meshwarden/userspace/identity/ca"
	"github.com/meshwarden/meshwarden/userspace/identity/clock"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

// ErrPeer wraps every reason a tunnel peer's certificate is refused.
var ErrPeer = errors.New("tunnel peer refused")

// ParseTLSVersion turns the policy's tls_min_version ("1.2", "1.3"; "" means "1.3") into a
// crypto/tls version number.
func ParseTLSVersion(s string) (uint16, error) {
	switch s {
	case "", "1.3":
		return tls.VersionTLS13, nil
	case "1.2":
		return tls.VersionTLS12, nil
	}
	return 0, fmt.Errorf("TLS version %q: want 1.2 or 1.3", s)
}

// TLSOptions tune the tunnel's TLS configurations.
type TLSOptions struct {
	// MinVersion is the lowest TLS version accepted; tls.VersionTLS13 when zero.
	MinVersion uint16
	// Authorize, when set, decides whether a verified peer node id may connect (server side);
	// by default any node of the trust domain may.
	Authorize func(peer spiffeid.ID) error
	// Bundle is where peers are verified; the node's CA when nil.
	Bundle ca.Source
	// Clock is the time certificates are checked at; the identity's clock when nil.
	Clock clock.Clock
}

// ServerConfig returns the tunnel listener's configuration: TLS MinVersion or newer, a client
// certificate required and verified against the bundle, its URI SAN a node id of the trust
// domain (and authorised by opts.Authorize).
func (i *Identity) ServerConfig(opts TLSOptions) *tls.Config {
	v := i.verifier(opts, x509.ExtKeyUsageClientAuth, func(peer spiffeid.ID) error {
		if opts.Authorize != nil {
			return opts.Authorize(peer)
		}
		return nil
	})
	return &tls.Config{
		MinVersion: minVersion(opts),
		ClientAuth: tls.RequireAnyClientCert, // verified by VerifyPeerCertificate against the live bundle
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return i.Certificate(), nil
		},
		VerifyPeerCertificate: v,
	}
}

// ClientConfig returns the configuration for dialling the enforcer of node peer: TLS
// MinVersion or newer, the node's certificate presented, the server's certificate verified
// against the bundle and required to carry exactly peer's node id.
func (i *Identity) ClientConfig(peer spiffeid.ID, opts TLSOptions) *tls.Config {
	v := i.verifier(opts, x509.ExtKeyUsageServerAuth, func(got spiffeid.ID) error {
		if got != peer {
			return fmt.Errorf("%w: peer presented %s, want %s", ErrPeer, got, peer)
		}
		return nil
	})
	return &tls.Config{
		MinVersion: minVersion(opts),
		// The server is verified in VerifyPeerCertificate (SPIFFE id, not DNS name, against the
		// bundle of the moment), which crypto/tls runs even with InsecureSkipVerify.
		InsecureSkipVerify: true,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return i.Certificate(), nil
		},
		VerifyPeerCertificate: v,
	}
}

func minVersion(opts TLSOptions) uint16 {
	if opts.MinVersion == 0 {
		return tls.VersionTLS13
	}
	return opts.MinVersion
}

func (i *Identity) verifier(opts TLSOptions, usage x509.ExtKeyUsage, check func(spiffeid.ID) error) func([][]byte, [][]*x509.Certificate) error {
	src := opts.Bundle
	if src == nil {
		src = i.auth
	}
	clk := clock.OrReal(opts.Clock)
	if opts.Clock == nil {
		clk = i.clock
	}
	td := i.id.TrustDomain()
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		peer, err := VerifyPeer(raw, src.Bundle(), clk, usage)
		if err != nil {
			return err
		}
		if peer.TrustDomain() != td {
			return fmt.Errorf("%w: %s is not in trust domain %s", ErrPeer, peer, td)
		}
		return check(peer)
	}
}

// VerifyPeer verifies a peer's certificate chain (leaf first) against bundle at the clock's
// time for usage, and returns the node id in its only URI SAN.
func VerifyPeer(raw [][]byte, bundle *ca.Bundle, clk clock.Clock, usage x509.ExtKeyUsage) (spiffeid.ID, error) {
	if len(raw) == 0 {
		return spiffeid.ID{}, fmt.Errorf("%w: no certificate", ErrPeer)
	}
	certs := make([]*x509.Certificate, len(raw))
	for k, der := range raw {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return spiffeid.ID{}, fmt.Errorf("%w: certificate %d: %w", ErrPeer, k, err)
		}
		certs[k] = c
	}
	leaf := certs[0]
	if leaf.IsCA {
		return spiffeid.ID{}, fmt.Errorf("%w: leaf certificate is a CA", ErrPeer)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:         bundle.Pool(),
		Intermediates: inter,
		CurrentTime:   clock.OrReal(clk).Now(),
		KeyUsages:     []x509.ExtKeyUsage{usage},
	}); err != nil {
		return spiffeid.ID{}, fmt.Errorf("%w: %w", ErrPeer, err)
	}
	if len(leaf.URIs) != 1 {
		return spiffeid.ID{}, fmt.Errorf("%w: certificate has %d URI SANs, want exactly one SPIFFE id", ErrPeer, len(leaf.URIs))
	}
	id, err := spiffeid.Parse(leaf.URIs[0].String())
	if err != nil {
		return spiffeid.ID{}, fmt.Errorf("%w: %w", ErrPeer, err)
	}
	if id.Kind() != spiffeid.KindNode {
		return spiffeid.ID{}, fmt.Errorf("%w: %s is not a node id", ErrPeer, id)
	}
	return id, nil
}

// PeerID returns the node id of a completed tunnel connection's peer (already verified by the
// configurations above).
func PeerID(cs tls.ConnectionState) (spiffeid.ID, error) {
	if len(cs.PeerCertificates) == 0 || len(cs.PeerCertificates[0].URIs) != 1 {
		return spiffeid.ID{}, fmt.Errorf("%w: no SPIFFE id in the connection state", ErrPeer)
	}
	return spiffeid.Parse(cs.PeerCertificates[0].URIs[0].String())
}
