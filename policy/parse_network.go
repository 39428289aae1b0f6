package policy

import (
	"math"
	"net/netip"

	"go.yaml.in/yaml/v3"
)

func (d *draft) parseZones(p *problems, n *yaml.Node) {
	items, _ := p.list(n, "zones")
	for i, item := range items {
		o, ok := p.object(item, index("zones", i), "name", "cidrs", "kind")
		if !ok {
			continue
		}
		z := Zone{ID: uint32(len(d.policy.Zones) + 1)}
		var sites zoneSites
		if v := p.require(o, "name"); v != nil {
			if s, ok := p.nonEmpty(v, o.field("name")); ok {
				switch {
				case s == WorldZone:
					p.node(v, "%s: %q is reserved for destinations in no zone", o.field("name"), WorldZone)
				case !isZoneName(s):
					p.node(v, "%s: zone name %q must match [a-z][a-z0-9_-]*", o.field("name"), s)
				}
				z.Name, sites.name = s, v
			}
		}
		if v := p.require(o, "cidrs"); v != nil {
			cidrs, ok := p.list(v, o.field("cidrs"))
			if ok && len(cidrs) == 0 {
				p.node(v, "%s: a zone needs at least one cidr", o.field("cidrs"))
			}
			for j, c := range cidrs {
				path := index(o.field("cidrs"), j)
				s, ok := p.str(c, path)
				if !ok {
					continue
				}
				prefix, err := parsePrefix(s)
				if err != nil {
					p.node(c, "%s: %v", path, err)
					continue
				}
				z.CIDRs = append(z.CIDRs, prefix)
				sites.cidrs = append(sites.cidrs, c)
			}
		}
		if v := o.vals["kind"]; v != nil {
			z.Kind, _ = p.oneOf(v, o.field("kind"), "endpoint kind", EndpointKinds())
		}
		d.policy.Zones = append(d.policy.Zones, z)
		d.zone = append(d.zone, sites)
	}
}

func (d *draft) parseAgents(p *problems, n *yaml.Node) {
	items, _ := p.list(n, "agents")
	for i, item := range items {
		o, ok := p.object(item, index("agents", i), "id", "role", "zone", "cgroup", "kind", "namespace", "attestation")
		if !ok {
			continue
		}
		var a Agent
		var sites agentSites
		if v := p.require(o, "id"); v != nil {
			if s, ok := p.nonEmpty(v, o.field("id")); ok {
				if !isAgentID(s) {
					p.node(v, "%s: agent id %q must match [a-z0-9][a-z0-9_.-]*", o.field("id"), s)
				}
				a.ID, sites.id = s, v
			}
		}
		if v := p.require(o, "role"); v != nil {
			if s, ok := p.nonEmpty(v, o.field("role")); ok {
				a.Role, sites.role = s, v
			}
		}
		if v := p.require(o, "zone"); v != nil {
			if s, ok := p.nonEmpty(v, o.field("zone")); ok {
				a.Zone, sites.zone = s, v
			}
		}
		if v := p.require(o, "cgroup"); v != nil {
			if c, ok := p.cgroup(v, o.field("cgroup")); ok {
				a.Cgroup, sites.cgroup = c, v
			}
		}
		if v := o.vals["kind"]; v != nil {
			a.Kind, _ = p.oneOf(v, o.field("kind"), "endpoint kind", EndpointKinds())
		}
		parseAgentIdentity(p, o, &a, &sites)
		d.policy.Agents = append(d.policy.Agents, a)
		d.agent = append(d.agent, sites)
	}
}

func (d *draft) parseSegmentation(p *problems, n *yaml.Node) {
	items, _ := p.list(n, "segmentation")
	for i, item := range items {
		o, ok := p.object(item, index("segmentation", i), "from", "to", "ports", "action")
		if !ok {
			continue
		}
		r := Rule{Line: item.Line}
		sites := ruleSites{node: item}
		if v := p.require(o, "from"); v != nil {
			if s, ok := p.nonEmpty(v, o.field("from")); ok {
				r.From, sites.from = s, v
			}
		}
		if v := p.require(o, "to"); v != nil {
			if s, ok := p.nonEmpty(v, o.field("to")); ok {
				r.To, sites.to = s, v
			}
		}
		if v := o.vals["ports"]; v != nil {
			ports, _ := p.list(v, o.field("ports"))
			for j, port := range ports {
				if num, ok := p.integer(port, index(o.field("ports"), j), 1, math.MaxUint16); ok {
					r.Ports = append(r.Ports, uint16(num))
				}
			}
		}
		if v := p.require(o, "action"); v != nil {
			r.Action, _ = p.verdict(v, o.field("action"))
		}
		d.policy.Segmentation = append(d.policy.Segmentation, r)
		d.rule = append(d.rule, sites)
	}
}

func (d *draft) parseEnforcer(p *problems, n *yaml.Node) {
	o, ok := p.object(n, "enforcer", "address4", "address6", "port", "cgroup")
	if !ok {
		return
	}
	e := &d.policy.Enforcer
	if v := o.vals["address4"]; v != nil {
		if a, ok := p.addr(v, o.field("address4")); ok {
			if a.Is4() {
				e.Address4 = a
			} else {
				p.node(v, "%s: %s is not an IPv4 address", o.field("address4"), a)
			}
		}
	}
	if v := o.vals["address6"]; v != nil {
		if a, ok := p.addr(v, o.field("address6")); ok {
			switch {
			case !a.Is6():
				p.node(v, "%s: %s is not an IPv6 address", o.field("address6"), a)
			case a.Is4In6():
				p.node(v, "%s: %s is a v4-mapped address; give a real IPv6 address", o.field("address6"), a)
			case a.Zone() != "":
				p.node(v, "%s: %s carries a zone (%%%s); give an address without one", o.field("address6"), a, a.Zone())
			default:
				e.Address6 = a
			}
		}
	}
	if v := o.vals["port"]; v != nil {
		if num, ok := p.integer(v, o.field("port"), 1, math.MaxUint16); ok {
			e.Port = uint16(num)
		}
	}
	if v := o.vals["cgroup"]; v != nil {
		if c, ok := p.cgroup(v, o.field("cgroup")); ok {
			e.Cgroup, d.enforcerCgroup = c, v
		} else {
			e.Cgroup = "" // validate must not compare agents with a default that was not asked for
		}
	}
}

// addr reads an IP address.
func (p *problems) addr(n *yaml.Node, path string) (netip.Addr, bool) {
	s, ok := p.str(n, path)
	if !ok {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		p.node(n, "%s: invalid IP address %q", path, s)
		return netip.Addr{}, false
	}
	return a, true
}

// cgroup reads a cgroup path relative to the cgroup2 root and cleans it.
func (p *problems) cgroup(n *yaml.Node, path string) (string, bool) {
	s, ok := p.str(n, path)
	if !ok {
		return "", false
	}
	c, err := cleanCgroup(s)
	if err != nil {
		p.node(n, "%s: cgroup %q %v", path, s, err)
		return "", false
	}
	return c, true
}
