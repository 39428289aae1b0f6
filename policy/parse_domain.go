package policy

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// parseDomainExtras reads the keys a domain has beyond the original design's: match,
// sensitive_fields, detectors, masked_keys, max_body_bytes, audit_payloads and
// audit_before_forward.
func parseDomainExtras(p *problems, o object, dom *Domain, sites *domainSites) {
	if v := o.vals["match"]; v != nil {
		dom.Match = parseMatch(p, v, o.field("match"), sites)
		if dom.Match != nil {
			dom.Match.Line = o.keys["match"].Line
		}
	}
	if v := o.vals["sensitive_fields"]; v != nil {
		parseSensitiveFields(p, v, o.field("sensitive_fields"), dom, sites)
	}
	if v := o.vals["detectors"]; v != nil {
		parseDetectors(p, v, o.field("detectors"), dom, sites)
	}
	if v := o.vals["masked_keys"]; v != nil {
		dom.MaskedKeys = p.stringList(v, o.field("masked_keys"))
	}
	if v := o.vals["max_body_bytes"]; v != nil {
		dom.MaxBodyBytes, _ = p.integer(v, o.field("max_body_bytes"), 1, maxMaxBodyBytes)
	}
	if v := o.vals["audit_payloads"]; v != nil {
		dom.AuditPayloads, _ = p.boolean(v, o.field("audit_payloads"))
	}
	if v := o.vals["audit_before_forward"]; v != nil {
		dom.AuditBeforeForward, _ = p.boolean(v, o.field("audit_before_forward"))
	}
}

func matchKeys() []string {
	return []string{"destinations", "http_paths", "jsonrpc_methods", "mcp_tools", "a2a_methods"}
}

// parseMatch reads a match block: `any`, or a mapping of at least one key. It returns nil
// when the block is unusable, so a broken match never turns into a catch-all.
func parseMatch(p *problems, n *yaml.Node, path string, sites *domainSites) *Match {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && n.Value == "any" {
		return &Match{Any: true}
	}
	if n.Kind != yaml.MappingNode {
		p.node(n, "%s: expected a mapping of %s, or any; got %s", path, strings.Join(matchKeys(), ", "), describe(n))
		return nil
	}
	o, _ := p.object(n, path, matchKeys()...)
	m := &Match{}
	if len(o.vals) == 0 {
		p.node(n, "%s: give at least one of %s; write match: any to take every request", path, strings.Join(matchKeys(), ", "))
		return nil
	}
	if v := o.vals["destinations"]; v != nil {
		for j, item := range p.entries(v, o.field("destinations")) {
			at := index(o.field("destinations"), j)
			s, ok := p.nonEmpty(item, at)
			if !ok {
				continue
			}
			dst, err := parseDestination(s)
			if err != nil {
				p.node(item, "%s: %v", at, err)
				continue
			}
			if dst.Zone != "" {
				sites.zones = append(sites.zones, zoneUse{name: dst.Zone, node: item})
			}
			m.Destinations = append(m.Destinations, dst)
		}
	}
	m.HTTPPaths = p.checkedStrings(o, "http_paths", checkHTTPPath)
	m.JSONRPCMethods = p.checkedStrings(o, "jsonrpc_methods", nil)
	m.MCPTools = p.checkedStrings(o, "mcp_tools", checkGlob)
	m.A2AMethods = p.checkedStrings(o, "a2a_methods", nil)
	return m
}

// checkedStrings reads the non-empty list of strings at key (absent: nil), each passing check
// when check is not nil.
func (p *problems) checkedStrings(o object, key string, check func(string) error) []string {
	v := o.vals[key]
	if v == nil {
		return nil
	}
	var out []string
	for j, item := range p.entries(v, o.field(key)) {
		at := index(o.field(key), j)
		s, ok := p.nonEmpty(item, at)
		if !ok {
			continue
		}
		if check != nil {
			if err := check(s); err != nil {
				p.node(item, "%s: %v", at, err)
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

// entries returns the items of a list that must not be empty: an empty list would read as
// either "nothing" or "anything", so it is refused.
func (p *problems) entries(n *yaml.Node, path string) []*yaml.Node {
	items, ok := p.list(n, path)
	if ok && len(items) == 0 {
		p.node(n, "%s: list at least one entry, or remove the key", path)
	}
	return items
}

// stringList reads a list of non-empty strings.
func (p *problems) stringList(n *yaml.Node, path string) []string {
	items, _ := p.list(n, path)
	var out []string
	for j, item := range items {
		if s, ok := p.nonEmpty(item, index(path, j)); ok {
			out = append(out, s)
		}
	}
	return out
}

func parseSensitiveFields(p *problems, n *yaml.Node, path string, dom *Domain, sites *domainSites) {
	items, _ := p.list(n, path)
	for j, item := range items {
		o, ok := p.object(item, index(path, j), "key", "action")
		if !ok {
			continue
		}
		var f SensitiveField
		k := p.require(o, "key")
		if k != nil {
			f.Key, _ = p.nonEmpty(k, o.field("key"))
		}
		if v := p.require(o, "action"); v != nil {
			f.Action = p.action(v, o.field("action"))
		}
		if f.Key == "" || f.Action == "" {
			continue
		}
		dom.SensitiveFields = append(dom.SensitiveFields, f)
		sites.fields = append(sites.fields, k)
	}
}

func detectorKeys() []string {
	return []string{"type", "action", "literals", "prefixes"}
}

func parseDetectors(p *problems, n *yaml.Node, path string, dom *Domain, sites *domainSites) {
	items, _ := p.list(n, path)
	for j, item := range items {
		o, ok := p.object(item, index(path, j), detectorKeys()...)
		if !ok {
			continue
		}
		var det Detector
		t := p.require(o, "type")
		if t != nil {
			det.Type, _ = p.oneOf(t, o.field("type"), "detector", DetectorTypes())
		}
		if v := p.require(o, "action"); v != nil {
			det.Action = p.action(v, o.field("action"))
		}
		det.Literals = p.canaryStrings(o, "literals", det.Type)
		det.Prefixes = p.canaryStrings(o, "prefixes", det.Type)
		if det.Type == DetectorCanary && o.vals["literals"] == nil && o.vals["prefixes"] == nil {
			p.node(item, "%s: a canary detector needs literals, prefixes or both", index(path, j))
			continue
		}
		if det.Type == "" || det.Action == "" {
			continue
		}
		dom.Detectors = append(dom.Detectors, det)
		sites.detectors = append(sites.detectors, t)
	}
}

// canaryStrings reads a canary detector's literals or prefixes.
func (p *problems) canaryStrings(o object, key, detectorType string) []string {
	v := o.vals[key]
	if v == nil {
		return nil
	}
	if detectorType != DetectorCanary {
		if detectorType != "" {
			p.node(o.keys[key], "%s: only canary detectors take %s, not %s", o.field(key), key, detectorType)
		}
		return nil
	}
	var out []string
	for j, item := range p.entries(v, o.field(key)) {
		at := index(o.field(key), j)
		s, ok := p.nonEmpty(item, at)
		if !ok {
			continue
		}
		if len(s) < MinCanaryLength {
			p.node(item, "%s: canary %q is shorter than %d characters and would be found in ordinary text", at, s, MinCanaryLength)
			continue
		}
		out = append(out, s)
	}
	return out
}

// action reads block, redact or audit; "" when it cannot.
func (p *problems) action(n *yaml.Node, path string) Action {
	s, _ := p.oneOf(n, path, "action", actionNames())
	return Action(s)
}
