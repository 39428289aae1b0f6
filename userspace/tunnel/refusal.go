package tunnel

import (
	"fmt"
	"net/netip"

	"github.com/meshwarden/meshwarden/userspace/identity/credential"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

// Stage says where a refusal happened.
type Stage string

// Stages of a refusal.
const (
	StageHandshake Stage = "handshake" // the connection: TLS, the peer's certificate, the session
	StageStream    Stage = "stream"    // one stream: its destination, credential, policy or delivery
	StageExchange  Stage = "exchange"  // one exchange marked on an accepted stream: its credential
)

// Refusal is one thing the server refused, for the audit log and the metrics. It never holds
// a credential or presentation.
type Refusal struct {
	Stage       Stage
	Reason      string         // a credential.Reason code or one of the Reason* constants
	Status      int            // the status answered (stream stage)
	Peer        spiffeid.ID    // the peer node; zero when the handshake failed before it was known
	RemoteAddr  string         // the peer's address
	Destination netip.AddrPort // the stream's original destination, when it parsed
	Source      spiffeid.ID    // the verified source agent (refusals after verification: policy, delivery)
	ExchangeID  string         // the sender's exchange id, when verified
	Err         error          // the detail, for logs
}

// RefusedError is what Client.Dial returns when the peer answered the stream with a refusal.
type RefusedError struct {
	Peer        spiffeid.ID
	Destination netip.AddrPort
	Status      int
	Reason      string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("tunnel to %s refused stream to %s: %d %s", e.Peer, e.Destination, e.Status, e.Reason)
}

// CredentialReason returns the credential refusal reason, or "" when the refusal was not about
// the credential.
func (e *RefusedError) CredentialReason() credential.Reason {
	for _, r := range credential.Reasons() {
		if string(r) == e.Reason {
			return r
		}
	}
	return ""
}
