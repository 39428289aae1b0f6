package policy

import (
	"math"
	"net"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// nodeSites is where one `nodes:` entry's values were written.
type nodeSites struct {
	name  *yaml.Node
	zones []*yaml.Node // one per Node.Zones entry
	cidrs []*yaml.Node // one per Node.CIDRs entry
}

// parseAgentIdentity reads an agent's optional namespace and attestation keys.
func parseAgentIdentity(p *problems, o object, a *Agent, sites *agentSites) {
	a.Namespace = DefaultNamespace
	if v := o.vals["namespace"]; v != nil {
		if s, ok := p.nonEmpty(v, o.field("namespace")); ok {
			if !isAgentID(s) {
				p.node(v, "%s: namespace %q must match [a-z0-9][a-z0-9_.-]*", o.field("namespace"), s)
			} else {
				a.Namespace, sites.namespace = s, v
			}
		}
	}
	if v := o.vals["attestation"]; v != nil {
		items, _ := p.list(v, o.field("attestation"))
		for j, item := range items {
			path := index(o.field("attestation"), j)
			s, ok := p.nonEmpty(item, path)
			if !ok {
				continue
			}
			if !isMeasurement(s) {
				p.node(item, "%s: measurement %q must be sha256: followed by 64 lowercase hex digits", path, s)
				continue
			}
			a.Attestation = append(a.Attestation, s)
		}
	}
}

// parseNodes reads `nodes:`: name, address (host:port of the tunnel endpoint), cidrs, zones.
func (d *draft) parseNodes(p *problems, n *yaml.Node) {
	items, _ := p.list(n, "nodes")
	for i, item := range items {
		o, ok := p.object(item, index("nodes", i), "name", "address", "cidrs", "zones")
		if !ok {
			continue
		}
		var nd Node
		var sites nodeSites
		if v := p.require(o, "name"); v != nil {
			if s, ok := p.nonEmpty(v, o.field("name")); ok {
				if !isAgentID(s) {
					p.node(v, "%s: node name %q must match [a-z0-9][a-z0-9_.-]*", o.field("name"), s)
				} else {
					nd.Name, sites.name = s, v
				}
			}
		}
		if v := p.require(o, "address"); v != nil {
			if s, ok := p.nonEmpty(v, o.field("address")); ok {
				if err := checkHostPort(s); err != "" {
					p.node(v, "%s: %s", o.field("address"), err)
				} else {
					nd.Address = s
				}
			}
		}
		if v := o.vals["cidrs"]; v != nil {
			cidrs, _ := p.list(v, o.field("cidrs"))
			for j, c := range cidrs {
				path := index(o.field("cidrs"), j)
				s, ok := p.nonEmpty(c, path)
				if !ok {
					continue
				}
				pfx, err := parsePrefix(s)
				if err != nil {
					p.node(c, "%s: %v", path, err)
					continue
				}
				nd.CIDRs = append(nd.CIDRs, pfx)
				sites.cidrs = append(sites.cidrs, c)
			}
		}
		if v := o.vals["zones"]; v != nil {
			zones, _ := p.list(v, o.field("zones"))
			for j, z := range zones {
				if s, ok := p.nonEmpty(z, index(o.field("zones"), j)); ok {
					nd.Zones = append(nd.Zones, s)
					sites.zones = append(sites.zones, z)
				}
			}
		}
		d.policy.Nodes = append(d.policy.Nodes, nd)
		d.node = append(d.node, sites)
	}
}

// parseTunnel reads `tunnel: {port: N}`.
func (d *draft) parseTunnel(p *problems, n *yaml.Node) {
	o, ok := p.object(n, "tunnel", "port")
	if !ok {
		return
	}
	if v := o.vals["port"]; v != nil {
		if port, ok := p.integer(v, o.field("port"), 1, math.MaxUint16); ok {
			d.policy.Tunnel.Port = uint16(port)
		}
	}
}

// checkHostPort returns why s is not a host:port with a port in 1..65535, or "".
func checkHostPort(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "address " + strconv.Quote(s) + " must be host:port"
	}
	if host == "" {
		return "address " + strconv.Quote(s) + " has no host"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > math.MaxUint16 {
		return "address " + strconv.Quote(s) + ": port must be 1..65535"
	}
	return ""
}
