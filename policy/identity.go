package policy

import (
	"net/netip"
	"strings"
)

// Identity defaults (issue 4).
const (
	// DefaultTrustDomain is global.trust_domain when the policy does not name one.
	DefaultTrustDomain = "meshwarden.local"
	// DefaultNamespace is an agent's namespace when it names none (local mode).
	DefaultNamespace = "local"
	// DefaultTunnelPort is tunnel.port when the policy does not name one.
	DefaultTunnelPort = 15008
)

// Node is one peer node of a local-mode mesh (`nodes:`): where its tunnel endpoint listens and
// which destinations it hosts.
type Node struct {
	Name    string
	Address string         // host:port of the node's tunnel endpoint
	CIDRs   []netip.Prefix // destinations hosted there
	Zones   []string       // zones whose CIDRs are hosted there
}

// Tunnel is the `tunnel` block: the node-to-node tunnel's settings.
type Tunnel struct {
	Port uint16 // default DefaultTunnelPort
}

// SpiffeID is the agent's SPIFFE id in trust domain td:
// spiffe://<td>/ns/<namespace>/agent/<id>.
func (a Agent) SpiffeID(td string) string {
	ns := a.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	return "spiffe://" + td + "/ns/" + ns + "/agent/" + a.ID
}

// NodePrefixes is every destination prefix node n hosts: its CIDRs and those of its zones.
func (p *Policy) NodePrefixes(n Node) []netip.Prefix {
	out := append([]netip.Prefix(nil), n.CIDRs...)
	for _, z := range n.Zones {
		for _, zone := range p.Zones {
			if zone.Name == z {
				out = append(out, zone.CIDRs...)
			}
		}
	}
	return out
}

// isTrustDomain reports whether s is a SPIFFE trust domain name: lowercase letters, digits,
// dots, dashes and underscores.
func isTrustDomain(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// isMeasurement reports whether s is "sha256:" followed by 64 lowercase hex digits.
func isMeasurement(s string) bool {
	hex, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for _, c := range hex {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
