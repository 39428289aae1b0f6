package agent

import (
	"net/netip"
	"slices"

	"github.com/meshwarden/meshwarden/policy"
)

// reasonInboundRole is the receiving node's refusal of a source whose role no domain of the
// destination allows.
const reasonInboundRole = "role_not_allowed"

// inboundAllowed is the destination side of the policy on the receiving node: the domains
// whose match.destinations name the destination (its zone, a CIDR holding it, or its address)
// are the ones the request can belong to; when there are any, at least one must allow the
// source's role. A destination no domain names is left to the sender's decision.
func inboundAllowed(pol *policy.Policy, dst netip.AddrPort, role string) bool {
	zone := zoneOf(pol, dst.Addr())
	named := false
	for _, d := range pol.Domains {
		if d.Match == nil || !namesDestination(d.Match.Destinations, dst, zone) {
			continue
		}
		named = true
		if slices.Contains(d.AllowedRoles, role) {
			return true
		}
	}
	return !named
}

// namesDestination reports whether one of ds names dst (in zone).
func namesDestination(ds []policy.Destination, dst netip.AddrPort, zone string) bool {
	for _, d := range ds {
		switch {
		case d.Zone != "":
			if d.Zone == zone {
				return true
			}
		case d.CIDR.IsValid():
			if d.CIDR.Contains(dst.Addr().Unmap()) {
				return true
			}
		case d.Host == dst.Addr().Unmap().String() && (d.Port == 0 || d.Port == dst.Port()):
			return true
		}
	}
	return false
}

// zoneOf is the zone whose CIDRs hold a, or policy.WorldZone.
func zoneOf(pol *policy.Policy, a netip.Addr) string {
	a = a.Unmap()
	best, bits := policy.WorldZone, -1
	for _, z := range pol.Zones {
		for _, c := range z.CIDRs {
			if c.Contains(a) && c.Bits() > bits {
				best, bits = z.Name, c.Bits()
			}
		}
	}
	return best
}
