package policy

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// validate runs the checks that look across entries: uniqueness, references between sections,
// overlapping zones, shared cgroups and contradicting rules. Values that could not be read
// (empty, with a nil node) were reported by the parser and are skipped here, so one mistake
// is reported once.
func validate(p *problems, d *draft) {
	roles := checkRoles(p, d)
	checkDomains(p, d, roles)
	zones := checkZones(p, d)
	checkDomainExtras(p, d, zones)
	checkAgents(p, d, roles, zones)
	checkRules(p, d, zones)
	checkEnforcer(p, d)
	checkIdentity(p, d, zones)
}

// firstSeen records where each name was first declared and reports later duplicates.
type firstSeen map[string]*yaml.Node

func (f firstSeen) add(p *problems, what, name string, n *yaml.Node) {
	if first, dup := f[name]; dup {
		p.node(n, "duplicate %s %q (first declared at line %d)", what, name, first.Line)
		return
	}
	f[name] = n
}

// checkRoles reports declared roles that repeat a built-in or each other, and returns the set
// of every known role.
func checkRoles(p *problems, d *draft) map[string]bool {
	known := map[string]bool{}
	for _, r := range builtinRoles() {
		known[r] = true
	}
	seen := firstSeen{}
	for i, n := range d.roles {
		name := d.policy.Roles[len(builtinRoles())+i]
		if known[name] && seen[name] == nil {
			p.node(n, "roles: %q is a built-in role; declare only extra roles", name)
			continue
		}
		seen.add(p, "role", name, n)
		known[name] = true
	}
	return known
}

func checkDomains(p *problems, d *draft, roles map[string]bool) {
	names := firstSeen{}
	for i, dom := range d.policy.Domains {
		sites := d.domain[i]
		if sites.name != nil {
			names.add(p, "domain name", dom.Name, sites.name)
		}
		for j, r := range dom.AllowedRoles {
			if !roles[r] {
				p.node(sites.roles[j], "domain %q: unknown role %q; known roles: %s", dom.Name, r, knownRoles(d))
			}
		}
	}
}

// checkZones reports duplicate zone names and overlapping CIDRs of different zones, and returns
// every declared zone name (valid or not, so a bad name is not reported again where it is used).
func checkZones(p *problems, d *draft) map[string]bool {
	names := firstSeen{}
	var prefixes []zonePrefix
	for i, z := range d.policy.Zones {
		sites := d.zone[i]
		if sites.name == nil {
			continue
		}
		names.add(p, "zone name", z.Name, sites.name)
		for j, c := range z.CIDRs {
			prefixes = append(prefixes, zonePrefix{prefix: c, zone: z.Name, node: sites.cidrs[j]})
		}
	}
	checkOverlaps(p, prefixes)
	declared := make(map[string]bool, len(names))
	for name := range names {
		declared[name] = true
	}
	return declared
}

func checkAgents(p *problems, d *draft, roles, zones map[string]bool) {
	ids := firstSeen{}
	for i, a := range d.policy.Agents {
		sites := d.agent[i]
		if sites.id != nil {
			ids.add(p, "agent id", a.ID, sites.id)
		}
		if sites.role != nil && !roles[a.Role] {
			p.node(sites.role, "agent %q: unknown role %q; known roles: %s", a.ID, a.Role, knownRoles(d))
		}
		if sites.zone != nil {
			switch {
			case a.Zone == WorldZone:
				p.node(sites.zone, "agent %q: zone %q holds only destinations; put the agent in a declared zone", a.ID, WorldZone)
			case !zones[a.Zone]:
				p.node(sites.zone, "agent %q: unknown zone %q; declared zones: %s", a.ID, a.Zone, declaredZones(d))
			}
		}
	}
	checkAgentCgroups(p, d)
}

// checkAgentCgroups reports agents that share a cgroup or whose cgroups nest: the kernel tells
// agents apart by their leaf cgroup, and hooks on a cgroup apply to everything below it.
func checkAgentCgroups(p *problems, d *draft) {
	owner := map[string]int{} // cgroup -> first agent in it
	for i, a := range d.policy.Agents {
		if d.agent[i].cgroup == nil {
			continue
		}
		if _, ok := owner[a.Cgroup]; !ok {
			owner[a.Cgroup] = i
		}
	}
	for i, a := range d.policy.Agents {
		n := d.agent[i].cgroup
		if n == nil {
			continue
		}
		if first := owner[a.Cgroup]; first != i {
			p.node(n, "agents %q and %q share cgroup %s (line %d); each agent needs its own leaf cgroup",
				d.policy.Agents[first].ID, a.ID, a.Cgroup, d.agent[first].cgroup.Line)
		}
		for _, anc := range cgroupAncestors(a.Cgroup) {
			j, ok := owner[anc]
			if !ok {
				continue
			}
			outer := d.agent[j].cgroup
			at := n
			if outer.Line > n.Line {
				at = outer
			}
			p.node(at, "cgroup %s of agent %q is inside cgroup %s of agent %q; agent cgroups must not nest",
				a.Cgroup, a.ID, anc, d.policy.Agents[j].ID)
		}
	}
}

// ruleKey is what one kernel zone-policy entry is keyed by.
type ruleKey struct {
	from, to string
	port     uint16
}

func checkRules(p *problems, d *draft, zones map[string]bool) {
	type decided struct {
		action Verdict
		line   int
	}
	seen := map[ruleKey]decided{}
	for i, r := range d.policy.Segmentation {
		sites := d.rule[i]
		fromOK, toOK := sites.from != nil, sites.to != nil
		if fromOK {
			switch {
			case r.From == WorldZone:
				p.node(sites.from, "segmentation: from must be a declared zone; %q holds only destinations", WorldZone)
				fromOK = false
			case !zones[r.From]:
				p.node(sites.from, "segmentation: unknown zone %q in from; declared zones: %s", r.From, declaredZones(d))
				fromOK = false
			}
		}
		if toOK && r.To != WorldZone && !zones[r.To] {
			p.node(sites.to, "segmentation: unknown zone %q in to; declared zones: %s, or %s", r.To, declaredZones(d), WorldZone)
			toOK = false
		}
		if !fromOK || !toOK || r.Action == VerdictNone {
			continue
		}
		for _, port := range portsOrAny(r.Ports) {
			k := ruleKey{from: r.From, to: r.To, port: port}
			prev, ok := seen[k]
			if !ok {
				seen[k] = decided{action: r.Action, line: r.Line}
				continue
			}
			if prev.action != r.Action {
				p.node(sites.node, "segmentation: %s -> %s %s is %s here but %s at line %d",
					r.From, r.To, portName(port), r.Action, prev.action, prev.line)
			}
		}
	}
}

// checkEnforcer reports an enforcer cgroup that is, contains, or is inside an agent's cgroup:
// the enforcer's cgroup must carry no hooks, and agents' cgroups all do.
func checkEnforcer(p *problems, d *draft) {
	e := d.policy.Enforcer.Cgroup
	if e == "" {
		return
	}
	for i, a := range d.policy.Agents {
		n := d.agent[i].cgroup
		if n == nil {
			continue
		}
		var how string
		switch {
		case a.Cgroup == e:
			how = "is the cgroup of"
		case cgroupContains(e, a.Cgroup):
			how = "contains the cgroup " + a.Cgroup + " of"
		case cgroupContains(a.Cgroup, e):
			how = "is inside the cgroup " + a.Cgroup + " of"
		default:
			continue
		}
		at, origin := n, " (default)"
		if d.enforcerCgroup != nil {
			origin = ""
			if d.enforcerCgroup.Line > at.Line {
				at = d.enforcerCgroup
			}
		}
		p.node(at, "enforcer cgroup %s%s %s agent %q; the enforcer's cgroup must stay apart from agent cgroups", e, origin, how, a.ID)
	}
}

// portsOrAny is the ports of a rule, or port 0 (any) when it lists none.
func portsOrAny(ports []uint16) []uint16 {
	if len(ports) == 0 {
		return []uint16{0}
	}
	return ports
}

func portName(port uint16) string {
	if port == 0 {
		return "any port"
	}
	return fmt.Sprintf("port %d", port)
}

func knownRoles(d *draft) string {
	return strings.Join(d.policy.Roles, ", ")
}

func declaredZones(d *draft) string {
	var names []string
	for i, z := range d.policy.Zones {
		if d.zone[i].name != nil {
			names = append(names, z.Name)
		}
	}
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}
