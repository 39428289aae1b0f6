package policy

import (
	"strings"
)

// checkDomainExtras runs the cross-checks of the keys a domain has beyond the original
// design's, and of default_domain: zones named in match blocks must be declared, a domain
// names each sensitive field and each detector type once, and default_domain names a domain.
func checkDomainExtras(p *problems, d *draft, zones map[string]bool) {
	for i, dom := range d.policy.Domains {
		sites := d.domain[i]
		for _, z := range sites.zones {
			if z.name != WorldZone && !zones[z.name] {
				p.node(z.node, "domain %q: unknown zone %q in match.destinations; declared zones: %s, or %s",
					dom.Name, z.name, declaredZones(d), WorldZone)
			}
		}
		fields := firstSeen{}
		for j, f := range dom.SensitiveFields {
			key, n := strings.ToLower(f.Key), sites.fields[j]
			if first, dup := fields[key]; dup {
				p.node(n, "domain %q: sensitive field %q repeats %q (line %d); keys are compared case-insensitively", dom.Name, f.Key, first.Value, first.Line)
				continue
			}
			fields[key] = n
		}
		detectors := firstSeen{}
		for j, det := range dom.Detectors {
			n := sites.detectors[j]
			if first, dup := detectors[det.Type]; dup {
				p.node(n, "domain %q: detector %s repeated (first at line %d); give each type once", dom.Name, det.Type, first.Line)
				continue
			}
			detectors[det.Type] = n
		}
	}
	checkDefaultDomain(p, d)
}

func checkDefaultDomain(p *problems, d *draft) {
	name := d.policy.DefaultDomain
	if d.defaultDomain == nil {
		return
	}
	var names []string
	for i, dom := range d.policy.Domains {
		if dom.Name == name && d.domain[i].name != nil {
			return
		}
		if d.domain[i].name != nil {
			names = append(names, dom.Name)
		}
	}
	declared := "(none)"
	if len(names) > 0 {
		declared = strings.Join(names, ", ")
	}
	p.node(d.defaultDomain, "default_domain: unknown domain %q; declared domains: %s", name, declared)
}
