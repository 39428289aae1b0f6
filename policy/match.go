package policy

import (
	"net"
	"net/netip"
	"strings"
	"time"
)

// Match is a domain's `match` block: which requests belong to the domain. Domains are tried in
// file order and the first whose match accepts a request wins; a request no domain accepts goes
// to security_mesh.default_domain, or is refused (reason no_policy) when there is none.
//
//	match:
//	  destinations: [data, 10.30.0.0/16, "tools.internal:8080", "[fd00::7]:443"]
//	  http_paths: [/mcp, /v1/]
//	  jsonrpc_methods: [tools/call]
//	  mcp_tools: ["crm_*", lookup_customer]
//	  a2a_methods: [message/send, SendMessage]
//
// or, to take every request:
//
//	match: any
//
// A request matches when it satisfies every key that is written:
//   - destinations: its destination is in one of them. An entry is a zone name (a declared zone,
//     or world), a CIDR (10.30.0.0/16), or host:port. A host that is an IP address is compared
//     with the address the agent connected to; a host name is compared, case-insensitively,
//     with the authority the agent sent (HTTP Host), which the agent chooses: when selection
//     must not depend on the agent's word, name the destination by zone or CIDR.
//   - http_paths: its HTTP path, after percent-decoding and removing dot segments and repeated
//     slashes, and without the query, starts with one of them at a segment boundary: /v1 takes
//     /v1 and /v1/chat but not /v1beta; /v1/ takes everything below /v1/.
//   - jsonrpc_methods, mcp_tools, a2a_methods: these three name what the message asks for, and
//     count as one key: a request satisfies it when it satisfies any one of those written.
//     jsonrpc_methods compares the JSON-RPC method exactly; mcp_tools compares the tool name of
//     an MCP tools/call with globs (see MatchGlob); a2a_methods compares the A2A method exactly
//     (v0.3 message/send and 1.0 SendMessage are different names: list both when both are used).
//
// Every key that is written needs at least one entry; `match: any` is the only catch-all.
type Match struct {
	Any            bool // `match: any`: every request
	Destinations   []Destination
	HTTPPaths      []string
	JSONRPCMethods []string
	MCPTools       []string // globs
	A2AMethods     []string
	Line           int // line of the match block in the source file, for messages
}

// Destination is one entry of match.destinations. Exactly one of Zone, CIDR or Host is set;
// Port is set with Host.
type Destination struct {
	Zone string       // a zone name, WorldZone included
	CIDR netip.Prefix // IPv4 prefixes are 4-byte, as for zone CIDRs
	Host string       // host name (lowercase) or IP address (canonical form), with Port
	Port uint16
}

// String returns the destination as it would be written in a policy.
func (d Destination) String() string {
	switch {
	case d.Zone != "":
		return d.Zone
	case d.CIDR.IsValid():
		return d.CIDR.String()
	}
	return hostPort(d.Host, d.Port)
}

// Request is what domain matching looks at: the facts the enforcer learnt about one request.
// Empty fields are unknown; a match key that needs an unknown fact is not satisfied.
type Request struct {
	DstAddr       netip.AddrPort // the address the agent connected to
	DstZone       string         // the zone of DstAddr (WorldZone when in none)
	DstHost       string         // host name of the authority the agent sent, without port
	HTTPPath      string         // request path, without query
	JSONRPCMethod string
	MCPTool       string // name of the tool of an MCP tools/call
	A2AMethod     string
}

// Matches reports whether r satisfies m. A nil Match never matches.
func (m *Match) Matches(r Request) bool {
	if m == nil {
		return false
	}
	if m.Any {
		return true
	}
	return m.matchesClean(r, cleanHTTPPath(r.HTTPPath))
}

// matchesClean is Matches with the request path already cleaned by cleanHTTPPath.
func (m *Match) matchesClean(r Request, path string) bool {
	if m.Any {
		return true
	}
	if len(m.Destinations) > 0 && !anyDestination(m.Destinations, r) {
		return false
	}
	if len(m.HTTPPaths) > 0 && !anyPathPrefix(m.HTTPPaths, path) {
		return false
	}
	if !m.hasMethods() {
		return true
	}
	return (r.JSONRPCMethod != "" && contains(m.JSONRPCMethods, r.JSONRPCMethod)) ||
		(r.MCPTool != "" && anyGlob(m.MCPTools, r.MCPTool)) ||
		(r.A2AMethod != "" && contains(m.A2AMethods, r.A2AMethod))
}

// hasMethods reports whether any of the three method keys is written.
func (m *Match) hasMethods() bool {
	return len(m.JSONRPCMethods)+len(m.MCPTools)+len(m.A2AMethods) > 0
}

// DomainFor returns the domain that applies to r: the first domain in file order whose match
// accepts r, else the default domain. ok is false when neither exists (reason no_policy).
// The returned pointer is into p.Domains.
func (p *Policy) DomainFor(r Request) (d *Domain, ok bool) {
	i, ok := p.DomainIndex(r)
	if !ok {
		return nil, false
	}
	return &p.Domains[i], true
}

// DomainIndex is DomainFor returning the index of the domain in p.Domains.
func (p *Policy) DomainIndex(r Request) (int, bool) {
	path := cleanHTTPPath(r.HTTPPath)
	for i := range p.Domains {
		if p.Domains[i].Match.matchesCleanOrNil(r, path) {
			return i, true
		}
	}
	if p.DefaultDomain != "" {
		for i := range p.Domains {
			if p.Domains[i].Name == p.DefaultDomain {
				return i, true
			}
		}
	}
	return -1, false
}

// matchesCleanOrNil is matchesClean for a possibly nil Match.
func (m *Match) matchesCleanOrNil(r Request, path string) bool {
	return m != nil && m.matchesClean(r, path)
}

// Domain returns the domain with the given name.
func (p *Policy) Domain(name string) (*Domain, bool) {
	if name == "" {
		return nil, false
	}
	for i := range p.Domains {
		if p.Domains[i].Name == name {
			return &p.Domains[i], true
		}
	}
	return nil, false
}

// Matches reports whether r's destination is d.
func (d Destination) Matches(r Request) bool {
	switch {
	case d.Zone != "":
		return r.DstZone == d.Zone
	case d.CIDR.IsValid():
		return r.DstAddr.IsValid() && d.CIDR.Contains(r.DstAddr.Addr().Unmap())
	}
	if !r.DstAddr.IsValid() || r.DstAddr.Port() != d.Port {
		return false
	}
	if a, err := netip.ParseAddr(d.Host); err == nil {
		return a == r.DstAddr.Addr().Unmap()
	}
	host := r.DstHost
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h // an authority with its port: compare the name only, the port was compared above
	}
	return strings.EqualFold(strings.TrimSuffix(host, "."), d.Host)
}

func anyDestination(ds []Destination, r Request) bool {
	for _, d := range ds {
		if d.Matches(r) {
			return true
		}
	}
	return false
}

func anyPathPrefix(prefixes []string, path string) bool {
	if path == "" {
		return false
	}
	for _, p := range prefixes {
		if PathHasPrefix(path, p) {
			return true
		}
	}
	return false
}

func anyGlob(globs []string, name string) bool {
	for _, g := range globs {
		if MatchGlob(g, name) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// BodyLimit returns the largest body the enforcer reads for the domain: MaxBodyBytes, or
// DefaultMaxBodyBytes when it is 0.
func (d *Domain) BodyLimit() int64 {
	if d.MaxBodyBytes > 0 {
		return d.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

// TokenAge returns the oldest credential the domain accepts: MaxTokenAge, or the global
// credential rotation interval when it is 0.
func (p *Policy) TokenAge(d *Domain) time.Duration {
	if d.MaxTokenAge > 0 {
		return d.MaxTokenAge
	}
	return p.Global.CredentialRotationInterval
}
