package tunnel

import (
	"cmp"
	"crypto/tls"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/credential"
	"github.com/meshwarden/meshwarden/userspace/identity/node"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

// NodeIdentity is this node's TLS identity; *node.Identity is one. Its configurations verify
// the peer's certificate against the live trust bundle and its node SPIFFE id.
type NodeIdentity interface {
	ID() spiffeid.ID
	ServerConfig(opts node.TLSOptions) *tls.Config
	ClientConfig(peer spiffeid.ID, opts node.TLSOptions) *tls.Config
}

// Presenter makes an agent's credential presentation for one stream; *credential.Manager is
// one.
type Presenter interface {
	Present(agent spiffeid.ID, b credential.Binding, audience spiffeid.ID, r credential.Request) (credential.Presentation, error)
}

// Verifier checks one stream's presentation; *credential.Verifier is one.
type Verifier interface {
	Verify(presentation string, b credential.Binding, peer spiffeid.ID) (*credential.Verified, error)
}

// Source is the agent a stream is opened for (sending side).
type Source struct {
	Agent      spiffeid.ID // the source agent's SPIFFE id: its credential is presented
	ExchangeID string      // links the sender's and the receiver's audit records; may be empty
	// Measurement is sha256:<hex> of the executable of the agent process the stream is opened
	// for, "" when not measured: presented with each request (credential.Request).
	Measurement string
}

// Identity is the verified source of a stream (receiving side): what the credential and the
// tunnel connection establish.
type Identity struct {
	Agent          spiffeid.ID // the source agent
	Role           string      // its role, from the credential
	Zone           string      // its trust zone, from the credential
	Node           string      // the node that issued the credential (and presented it)
	PeerNode       spiffeid.ID // the tunnel peer, authenticated by mutual TLS; the issuer of the credential
	Measurement    string      // sha256:<hex> of the executable of the process that made the request (the presentation's), else the credential's; "" when not measured
	ExchangeID     string      // the sender's exchange id
	CredentialID   string      // the credential's jti
	PresentationID string      // this stream's one-time presentation id
	IssuedAt       time.Time   // the credential's iat
	Expiry         time.Time   // the credential's exp
}

func identityOf(v *credential.Verified, peer spiffeid.ID) Identity {
	c := v.Claims
	return Identity{
		Agent: c.Subject, Role: c.Role, Zone: c.Zone, Node: c.Node, PeerNode: peer,
		Measurement: cmp.Or(v.Measurement, c.Measurement), ExchangeID: v.ExchangeID, CredentialID: c.ID,
		PresentationID: v.PresentationID, IssuedAt: c.IssuedAt, Expiry: c.Expiry,
	}
}
