package policy

import (
	"go.yaml.in/yaml/v3"
)

// draft is a policy as read from YAML, before the cross-checks of validate. Beside each value
// it keeps the YAML node it came from (nil when the value is a default or could not be read), so
// validate can report at the right line.
type draft struct {
	policy Policy
	roles  []*yaml.Node // declared by `roles:`, one per Policy.Roles entry after the built-ins
	domain []domainSites
	zone   []zoneSites
	agent  []agentSites
	rule   []ruleSites
	// enforcerCgroup is where enforcer.cgroup was written; nil when it is the default.
	enforcerCgroup *yaml.Node
	// defaultDomain is where default_domain was written; nil when absent.
	defaultDomain *yaml.Node
	node          []nodeSites
}

type domainSites struct {
	name  *yaml.Node
	roles []*yaml.Node // one per Domain.AllowedRoles entry
	zones []zoneUse    // match.destinations entries that name a zone
	// fields and detectors hold one node per Domain.SensitiveFields and Domain.Detectors
	// entry: where its key or type was written.
	fields, detectors []*yaml.Node
}

// zoneUse is a zone name written in a domain's match.destinations.
type zoneUse struct {
	name string
	node *yaml.Node
}

type zoneSites struct {
	name  *yaml.Node
	cidrs []*yaml.Node // one per Zone.CIDRs entry
}

type agentSites struct {
	id, role, zone, cgroup *yaml.Node
	// namespace is where namespace was written; nil when it is the default.
	namespace *yaml.Node
}

type ruleSites struct {
	node, from, to *yaml.Node
}

// meshKeys are the keys allowed under security_mesh, in the order the documentation gives them.
func meshKeys() []string {
	return []string{"global", "roles", "domains", "zones", "agents", "segmentation", "default_action", "enforcer", "default_domain", "nodes", "tunnel"}
}

// parseMesh reads the security_mesh mapping, applying defaults for absent keys.
func parseMesh(p *problems, n *yaml.Node) *draft {
	d := &draft{policy: Policy{
		Global: Global{
			TLSMinVersion:              defaultTLSMinVersion,
			CredentialRotationInterval: defaultCredentialRotationInterval,
			AuditScope:                 AuditFullMesh,
			TrustDomain:                DefaultTrustDomain,
		},
		Tunnel:        Tunnel{Port: DefaultTunnelPort},
		Roles:         builtinRoles(),
		DefaultAction: VerdictDeny,
		Enforcer: Enforcer{
			Address4: defaultEnforcerAddress4(),
			Address6: defaultEnforcerAddress6(),
			Port:     defaultEnforcerPort,
			Cgroup:   defaultEnforcerCgroup,
		},
	}}
	mesh, ok := p.object(n, "security_mesh", meshKeys()...)
	if !ok {
		return d
	}
	if v := mesh.vals["global"]; v != nil {
		d.parseGlobal(p, v)
	}
	if v := mesh.vals["roles"]; v != nil {
		d.parseRoles(p, v)
	}
	if v := mesh.vals["domains"]; v != nil {
		d.parseDomains(p, v)
	}
	if v := mesh.vals["zones"]; v != nil {
		d.parseZones(p, v)
	}
	if v := mesh.vals["agents"]; v != nil {
		d.parseAgents(p, v)
	}
	if v := mesh.vals["segmentation"]; v != nil {
		d.parseSegmentation(p, v)
	}
	if v := mesh.vals["default_action"]; v != nil {
		if verdict, ok := p.verdict(v, "default_action"); ok {
			d.policy.DefaultAction = verdict
		}
	}
	if v := mesh.vals["enforcer"]; v != nil {
		d.parseEnforcer(p, v)
	}
	if v := mesh.vals["default_domain"]; v != nil {
		if s, ok := p.nonEmpty(v, "default_domain"); ok {
			d.policy.DefaultDomain, d.defaultDomain = s, v
		}
	}
	if v := mesh.vals["nodes"]; v != nil {
		d.parseNodes(p, v)
	}
	if v := mesh.vals["tunnel"]; v != nil {
		d.parseTunnel(p, v)
	}
	return d
}

func (d *draft) parseGlobal(p *problems, n *yaml.Node) {
	o, ok := p.object(n, "global", "tls_min_version", "credential_rotation_interval_ms", "audit_scope", "trust_domain")
	if !ok {
		return
	}
	g := &d.policy.Global
	if v := o.vals["tls_min_version"]; v != nil {
		if s, ok := p.oneOf(v, o.field("tls_min_version"), "TLS version", tlsVersions()); ok {
			g.TLSMinVersion = s
		}
	}
	if v := o.vals["credential_rotation_interval_ms"]; v != nil {
		if ms, ok := p.millis(v, o.field("credential_rotation_interval_ms")); ok {
			g.CredentialRotationInterval = ms
		}
	}
	if v := o.vals["audit_scope"]; v != nil {
		if s, ok := p.oneOf(v, o.field("audit_scope"), "audit scope", auditLevels()); ok {
			g.AuditScope = s
		}
	}
	if v := o.vals["trust_domain"]; v != nil {
		if s, ok := p.nonEmpty(v, o.field("trust_domain")); ok {
			if !isTrustDomain(s) {
				p.node(v, "%s: trust domain %q must match [a-z0-9._-]+", o.field("trust_domain"), s)
			} else {
				g.TrustDomain = s
			}
		}
	}
}

func (d *draft) parseRoles(p *problems, n *yaml.Node) {
	items, _ := p.list(n, "roles")
	for i, item := range items {
		path := index("roles", i)
		s, ok := p.nonEmpty(item, path)
		if !ok {
			continue
		}
		if !isRoleName(s) {
			p.node(item, "%s: role %q must be an uppercase identifier ([A-Z][A-Z0-9_]*)", path, s)
		}
		d.policy.Roles = append(d.policy.Roles, s)
		d.roles = append(d.roles, item)
	}
}

func domainKeys() []string {
	return []string{"name", "tier", "allowed_roles", "metadata_masking", "audit_level", "attestation_required", "max_token_age_ms",
		"match", "sensitive_fields", "detectors", "masked_keys", "max_body_bytes", "audit_payloads", "audit_before_forward"}
}

func (d *draft) parseDomains(p *problems, n *yaml.Node) {
	items, _ := p.list(n, "domains")
	for i, item := range items {
		o, ok := p.object(item, index("domains", i), domainKeys()...)
		if !ok {
			continue
		}
		dom := Domain{AuditLevel: AuditFullMesh}
		var sites domainSites
		if v := p.require(o, "name"); v != nil {
			if s, ok := p.nonEmpty(v, o.field("name")); ok {
				dom.Name, sites.name = s, v
			}
		}
		if v := p.require(o, "tier"); v != nil {
			dom.Tier, _ = p.oneOf(v, o.field("tier"), "tier", tiers())
		}
		if v := o.vals["allowed_roles"]; v != nil {
			roles, _ := p.list(v, o.field("allowed_roles"))
			for j, r := range roles {
				if s, ok := p.nonEmpty(r, index(o.field("allowed_roles"), j)); ok {
					dom.AllowedRoles = append(dom.AllowedRoles, s)
					sites.roles = append(sites.roles, r)
				}
			}
		}
		if v := o.vals["metadata_masking"]; v != nil {
			dom.MetadataMasking, _ = p.boolean(v, o.field("metadata_masking"))
		}
		if v := o.vals["audit_level"]; v != nil {
			if s, ok := p.oneOf(v, o.field("audit_level"), "audit level", auditLevels()); ok {
				dom.AuditLevel = s
			}
		}
		if v := o.vals["attestation_required"]; v != nil {
			dom.AttestationRequired, _ = p.boolean(v, o.field("attestation_required"))
		}
		if v := o.vals["max_token_age_ms"]; v != nil {
			dom.MaxTokenAge, _ = p.millis(v, o.field("max_token_age_ms"))
		}
		parseDomainExtras(p, o, &dom, &sites)
		if o.vals["audit_before_forward"] == nil {
			// global is read before domains, wherever it stands in the file
			dom.AuditBeforeForward = dom.AuditLevel == AuditFullMesh && d.policy.Global.AuditScope == AuditFullMesh
		}
		d.policy.Domains = append(d.policy.Domains, dom)
		d.domain = append(d.domain, sites)
	}
}

// verdict reads ALLOW, DENY or REDIRECT.
func (p *problems) verdict(n *yaml.Node, path string) (Verdict, bool) {
	s, ok := p.oneOf(n, path, "action", verdictNames())
	if !ok {
		return VerdictNone, false
	}
	return parseVerdict(s)
}
