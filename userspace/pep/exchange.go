package pep

import (
	"net/http"
	"net/netip"
	"time"

	"github.com/meshwarden/meshwarden/policy"
)

// Exchange is one request as the enforcer understood it. Decide changes Headers and Body in
// place (redaction, scrubbing).
//
// A JSON-RPC batch is decided element by element: one Exchange per call, with that call's
// method and body.
type Exchange struct {
	Source      Identity
	Destination Destination

	HTTPMethod    string
	HTTPPath      string // without query
	JSONRPCMethod string
	MCPTool       string // tool name of an MCP tools/call
	A2AMethod     string

	// Headers are the request headers (nil when the protocol has none).
	Headers http.Header
	// Body is the decoded JSON body (encoding/json into any; nil when there is none or it is
	// not JSON). Raw is the body as received, forwarded as it is when nothing in it changes.
	Body any
	Raw  []byte
	// Lazy, when Body is nil, is the JSON body parsed but not decoded (see Lazy): decoded into
	// the decision's Body only when classification or scrubbing needs it.
	Lazy Lazy
	// Text says that Body is a plain text (a string: a text/* body, an event's data that is
	// not JSON), not decoded JSON: detectors scan it and its payload is its bytes.
	Text bool
	// BodySize is the size of the body as received, for max_body_bytes (0: unknown).
	BodySize int64
	// MetadataPaths locate the metadata objects in Body to scrub (see scrub.Walk); nil means
	// scrub.MetadataPaths(). ClientInfoPaths likewise, nil meaning scrub.ClientInfoPaths().
	MetadataPaths   [][]string
	ClientInfoPaths [][]string

	// Now is when the exchange happens; zero means the Engine's clock.
	Now time.Time
}

// Destination is where the agent was going.
type Destination struct {
	Addr netip.AddrPort // original destination from the datapath
	Zone string         // its zone (policy.WorldZone when in none)
	Host string         // host name of the authority the agent sent (HTTP Host), without port
}

// request is the part of an exchange domain matching looks at.
func (ex *Exchange) request() policy.Request {
	return policy.Request{
		DstAddr:       ex.Destination.Addr,
		DstZone:       ex.Destination.Zone,
		DstHost:       ex.Destination.Host,
		HTTPPath:      ex.HTTPPath,
		JSONRPCMethod: ex.JSONRPCMethod,
		MCPTool:       ex.MCPTool,
		A2AMethod:     ex.A2AMethod,
	}
}
