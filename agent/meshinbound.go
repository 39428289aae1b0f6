package agent

import (
	"net/netip"
	"slices"

	"github.com/meshwarden/meshwarden/policy"
)

// Reasons of the receiving node's refusals: the PEP's codes for the same checks.
const (
	reasonInboundRole        = "role_not_allowed"     // no domain of the destination allows the source's role
	reasonInboundNoMeasure   = "attestation_missing"  // the domain requires attestation; the credential carries no measurement
	reasonInboundMeasurement = "attestation_mismatch" // the measurement is not one this node's policy accepts for the agent
)

// inboundRefusal is the destination side of the policy on the receiving node: the domains
// whose match.destinations name the destination (its zone, a CIDR holding it, or its address)
// are the ones the request can belong to; when there are any, one of them must admit the
// source: allow its role and, when it requires attestation, see a measurement in the source's
// credential that this node's policy accepts for the agent (any measurement when this node's
// policy does not list the agent or lists no accepted measurements for it: the issuing node
// measured it). It returns "" when admitted, else the reason of the refusal. A destination no
// domain names is left to the sender's decision.
func inboundRefusal(pol *policy.Policy, dst netip.AddrPort, agentID, role, measurement string) string {
	zone := zoneOf(pol, dst.Addr())
	refusal := ""
	for _, d := range pol.Domains {
		if d.Match == nil || !namesDestination(d.Match.Destinations, dst, zone) {
			continue
		}
		reason := reasonInboundRole
		if slices.Contains(d.AllowedRoles, role) {
			reason = attestationRefusal(pol, d, agentID, measurement)
			if reason == "" {
				return ""
			}
		}
		if refusal == "" || refusal == reasonInboundRole {
			refusal = reason // the most specific reason of the domains that name dst
		}
	}
	return refusal
}

// attestationRefusal checks the source's measurement against domain d.
func attestationRefusal(pol *policy.Policy, d policy.Domain, agentID, measurement string) string {
	if !d.AttestationRequired {
		return ""
	}
	if measurement == "" {
		return reasonInboundNoMeasure
	}
	if a, ok := pol.Agent(agentID); ok && len(a.Attestation) > 0 && !slices.Contains(a.Attestation, measurement) {
		return reasonInboundMeasurement
	}
	return ""
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
