package tunnel

import "net/http"

// ALPN is the TLS application protocol of the tunnel; both sides require it, so a peer speaking
// another protocol (or another version of this one) fails the handshake instead of
// misinterpreting frames.
const ALPN = "meshwarden-tunnel/1"

// DefaultPort is the tunnel's listening port.
const DefaultPort = 15008

// Fields of an OPEN frame (client to server) and of a REPLY frame.
const (
	FieldDestination  = "destination"  // the original destination, ip:port (netip.AddrPort syntax)
	FieldPresentation = "presentation" // OPEN and MARK: the source agent's credential presentation for this stream or exchange
	FieldReason       = "reason"       // REPLY: the reason code of a refusal
)

// Statuses of a REPLY.
const (
	StatusOK                 = http.StatusOK                  // verified and delivered: bytes flow
	StatusBadRequest         = http.StatusBadRequest          // the OPEN is malformed (destination)
	StatusUnauthorized       = http.StatusUnauthorized        // the credential presentation was refused
	StatusForbidden          = http.StatusForbidden           // the receiving side's policy refused the source
	StatusInternalError      = http.StatusInternalServerError // the handler ended without answering
	StatusBadGateway         = http.StatusBadGateway          // the destination could not be reached
	StatusServiceUnavailable = http.StatusServiceUnavailable  // the server is shutting down
)

// Reason codes of the tunnel itself; credential refusals use credential.Reason codes
// (credential_expired, credential_replayed, ...).
const (
	ReasonBadDestination         = "bad_destination"          // no destination, or not ip:port
	ReasonDestinationUnreachable = "destination_unreachable"  // dialling the local destination failed
	ReasonNotAnswered            = "not_answered"             // the handler returned without Accept or Refuse
	ReasonTLSHandshake           = "tls_handshake_failed"     // TLS failed: version, protocol, transport
	ReasonPeerCertificate        = "peer_certificate_refused" // the peer's certificate or node id was refused
	ReasonSession                = "session_setup_failed"     // TLS succeeded but the tunnel session did not start
	ReasonSourceChanged          = "exchange_source_changed"  // an exchange's credential names another agent than its stream's
	ReasonExchangeRefused        = "exchange_refused"         // the handler's OnExchange callback refused an exchange
)
