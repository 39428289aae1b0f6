package policy

// checkIdentity reports repeated node names and nodes naming unknown zones. Two agents can
// never share a SPIFFE id: checkAgents refuses a repeated agent id, and the id is the last
// segment of the SPIFFE id in the policy's one trust domain.
func checkIdentity(p *problems, d *draft, zones map[string]bool) {
	names := firstSeen{}
	for i, n := range d.policy.Nodes {
		sites := d.node[i]
		if sites.name != nil {
			names.add(p, "node", n.Name, sites.name)
		}
		for j, z := range n.Zones {
			if !zones[z] || z == WorldZone {
				p.node(sites.zones[j], "node %q: unknown zone %q; declared zones: %s", n.Name, z, declaredZones(d))
			}
		}
	}
}
