package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/audit"
	"github.com/meshwarden/meshwarden/userspace/pep"
	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// credentialLifetime is how long the credential the datapath vouches for counts as fresh: the
// agent's identity comes from the kernel (its cgroup) with every connection, so it never goes
// stale while the identity work (per-request credentials, attestation) is not wired in.
const credentialLifetime = time.Minute

// txn is one HTTP exchange on the enforcing path, from its request head to the last byte of its
// response: what was read, understood and decided, and what the audit record will say.
type txn struct {
	c     *session
	eng   *pep.Engine
	req   *http.Request
	start time.Time
	id    string // exchange id, shared by the exchange's records

	dst    pep.Destination
	hints  protocol.Hints
	limit  int64 // body limit the request was read with (the largest of its candidate domains)
	parser protocol.Parser

	body    []byte         // the request body as received
	parsed  *protocol.Body // the request body understood; nil when it was not parsed
	domain  *policy.Domain // the domain decided in; nil for no_policy or before the decision
	masking bool           // the domain masks metadata: scrub, pseudonymise
	swap    idSwap         // the request's identifiers swapped
	// answered are the pseudonyms of the request's JSON-RPC ids its response revealed:
	// forgotten when the exchange ends (end).
	answered []any
	payload  []byte // the request body as forwarded

	// Domains with audit_payloads (sealing.go): the response payload as relayed, the record
	// id reserved for the payloads sealed so far, and those payloads.
	respPayload           []byte
	recordID              string
	sealedReq, sealedResp *audit.Sealed

	// What the exchange record says beyond the connection's identity.
	protocolName    string
	channel         string
	rpcMethod, tool string
	status          int
	bytesOut        int64
	verdict         string
	reason          string         // reason code, or relayed
	reasons         []string       // every failed check, most important first
	findings        []string       // classification findings: type, action and path, never values
	masked          []string       // headers and keys scrubbed, identifier kinds pseudonymised
	pending         []audit.Record // message records not yet written (see auditMessages)
}

func (c *session) newTxn(req *http.Request) *txn {
	t := &txn{c: c, req: req, start: time.Now(), id: newExchangeID(), protocolName: protocolHTTP1, verdict: verdictRedirect, reason: reasonRelayed}
	if c.srv.cfg.Engine != nil {
		t.eng = c.srv.cfg.Engine()
	}
	t.dst = pep.Destination{Addr: c.origin, Zone: c.base.DstZone, Host: hostOnly(req.Host)}
	t.hints = protocol.Hints{Client: protocol.Destination(c.id.Kind)}
	if t.eng != nil {
		t.hints.Server = protocol.Destination(t.eng.Policy().ZoneKind(c.base.DstZone))
	}
	return t
}

// source is the calling agent as the decision engine sees it: known from the datapath (its
// cgroup), which counts as a valid credential and measurement until the identity work lands.
func (c *session) source(now time.Time) pep.Identity {
	if c.id.Source != nil {
		return c.id.Source(now)
	}
	return pep.DatapathIdentity(policy.Agent{ID: c.id.AgentID, Role: c.id.Role, Zone: c.id.Zone}, now, credentialLifetime)
}

// newExchangeID returns a random id for the records of one exchange.
func newExchangeID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// hostOnly returns the host of an HTTP authority without its port, lower case.
func hostOnly(authority string) string {
	h := authority
	if host, _, err := net.SplitHostPort(authority); err == nil {
		h = host
	}
	return strings.ToLower(strings.Trim(h, "[]"))
}

// protocolLabel names a parsed protocol in the audit record's protocol field.
func protocolLabel(p protocol.Protocol) string {
	switch p {
	case protocol.ProtoMCP:
		return "mcp"
	case protocol.ProtoA2A:
		return "a2a"
	case protocol.ProtoOpenAIChat, protocol.ProtoOpenAIResponses:
		return "openai"
	case protocol.ProtoJSONRPC:
		return "jsonrpc"
	}
	return protocolHTTP1
}

// domainName and tierName are the decided domain's, "" before the decision or for no_policy.
func (t *txn) domainName() string {
	if t.domain == nil {
		return ""
	}
	return t.domain.Name
}

func (t *txn) tierName() string {
	if t.domain == nil {
		return ""
	}
	return t.domain.Tier
}

// deny records a refusal of the exchange: reason first among its reasons.
func (t *txn) deny(reason string) {
	t.verdict, t.reason = verdictDeny, reason
	t.reasons = append([]string{reason}, t.reasons...)
}

// end forgets the pseudonyms of the exchange's requests that its response answered, and writes
// message records still queued.
func (t *txn) end() {
	t.flushMessages()
	if t.c.flow != nil && len(t.answered) > 0 {
		t.c.flow.forgetIDs(t.answered)
	}
}
