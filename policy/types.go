// Package policy holds the security_mesh model: loading the YAML file, validating it with
// file:line errors, and compiling it into the tables the kernel datapath and the enforcer use.
package policy

import (
	"net/netip"
	"time"
)

// Verdict is what the datapath does with a connect(). The numbers are shared with bpf/include/mw_types.h.
type Verdict uint8

const (
	VerdictNone     Verdict = 0 // no rule: the datapath falls back to the default verdict
	VerdictAllow    Verdict = 1
	VerdictDeny     Verdict = 2
	VerdictRedirect Verdict = 3
)

// String returns the policy spelling of v (ALLOW, DENY, REDIRECT).
func (v Verdict) String() string {
	switch v {
	case VerdictAllow:
		return "ALLOW"
	case VerdictDeny:
		return "DENY"
	case VerdictRedirect:
		return "REDIRECT"
	}
	return "NONE"
}

// WorldZone is the reserved zone of every destination that no zone's CIDRs cover. Its id is 0.
const WorldZone = "world"

// Policy is one validated security_mesh file.
type Policy struct {
	Source        string // path the policy was read from
	Global        Global
	Roles         []string // every role an agent or domain may name: the built-in four plus `roles:`
	Domains       []Domain
	Zones         []Zone // in file order; Zone.ID is index+1 (0 is WorldZone)
	Agents        []Agent
	Segmentation  []Rule
	DefaultAction Verdict
	Enforcer      Enforcer
	// DefaultDomain (security_mesh.default_domain) names the domain that applies to a request
	// no domain's match selects. Empty: such a request is refused (reason no_policy).
	DefaultDomain string
	// Nodes (`nodes:`) are the mesh's nodes in local mode: tunnel address and hosted
	// destinations. Empty: a single-node mesh.
	Nodes []Node
	// Tunnel (`tunnel:`) configures the node-to-node tunnel.
	Tunnel Tunnel
}

// Global is the `global` block of the original design's template.
type Global struct {
	TLSMinVersion              string        // "1.2" or "1.3"
	CredentialRotationInterval time.Duration // credential_rotation_interval_ms
	AuditScope                 string        // OUTPUT_ONLY or FULL_MESH
	TrustDomain                string        // trust_domain; default DefaultTrustDomain
}

// Domain is one data domain of the original design's template, with the keys the enforcer
// needs to select it and to classify what flows through it. Every key added after the original
// design is optional and its zero value keeps the original behaviour.
type Domain struct {
	Name                string
	Tier                string   // PLAINTEXT, RETRIEVAL, COMPUTATION, MPC, FHE
	AllowedRoles        []string // roles that may send into the domain; empty: no role may
	MetadataMasking     bool
	AuditLevel          string // OUTPUT_ONLY or FULL_MESH
	AttestationRequired bool
	MaxTokenAge         time.Duration // max_token_age_ms; 0 = use the global rotation interval

	// Match (`match`) says which requests belong to the domain; see Match. Nil when the key is
	// absent: such a domain is never selected by matching, only as security_mesh.default_domain.
	Match *Match
	// SensitiveFields (`sensitive_fields`) are JSON keys whose values are sensitive wherever they
	// appear, at any depth, compared case-insensitively:
	//
	//	sensitive_fields:
	//	  - {key: password, action: block}
	//	  - {key: api_key, action: redact}
	SensitiveFields []SensitiveField
	// Detectors (`detectors`) look for sensitive data inside string values and texts:
	//
	//	detectors:
	//	  - {type: ssn, action: redact}
	//	  - {type: payment_card, action: block}
	//	  - {type: canary, action: block, prefixes: [CANARY_], literals: [mw-7f3a9c2e]}
	Detectors []Detector
	// MaskedKeys (`masked_keys`) are keys removed from JSON metadata objects (A2A `metadata`,
	// MCP `_meta`) when metadata_masking is true, beside the original design's sender_ip,
	// routing_path, internal_id and timestamp. Compared case-insensitively.
	MaskedKeys []string
	// MaxBodyBytes (`max_body_bytes`) is the largest request or response body the enforcer
	// reads for the domain; a larger one is refused (HTTP 413). 0 (absent) means
	// DefaultMaxBodyBytes; use BodyLimit.
	MaxBodyBytes int64
	// AuditPayloads (`audit_payloads`, default false): audit records of the domain hold the
	// scrubbed and redacted payloads as relayed, sealed to the audit payload key (meshwarden
	// run --audit-payload-key, which a policy with such a domain requires), not only their
	// digest.
	AuditPayloads bool
	// AuditBeforeForward (`audit_before_forward`): the audit record of a request is written
	// durably before the request is forwarded, and the request is refused when it cannot be;
	// when false the record may be written while the request is on its way. Absent, it is true
	// for a FULL_MESH domain (unless global.audit_scope caps the mesh at OUTPUT_ONLY) and false
	// otherwise.
	AuditBeforeForward bool
}

// Zone is a trust zone: where destinations live.
type Zone struct {
	Name  string
	ID    uint32
	CIDRs []netip.Prefix
	// Kind (`kind`, optional) is what kind of endpoint the zone's destinations are: one of
	// EndpointKinds. The enforcer labels messages sent there by it.
	Kind string
}

// Agent is a local-mode identity bound to one leaf cgroup.
type Agent struct {
	ID     string
	Role   string
	Zone   string
	Cgroup string // relative to the cgroup2 root, cleaned, no leading slash
	// Kind (`kind`, optional) is what kind of endpoint the agent is, one of EndpointKinds:
	// user_facing for a frontend whose answers users read. The enforcer labels the responses
	// the agent receives by it.
	Kind string
	// Namespace (`namespace`, optional, default DefaultNamespace) is the namespace part of the
	// agent's SPIFFE id.
	Namespace string
	// Attestation (`attestation`, optional) lists the measurements ("sha256:<hex>") of the
	// binaries the agent may run; a domain with attestation_required refuses any other.
	Attestation []string
}

// Rule is one micro-segmentation rule between zones. Ports empty means any port.
type Rule struct {
	From, To string
	Ports    []uint16
	Action   Verdict
	Line     int // line of the rule in the source file
}

// Enforcer says where the node's enforcer listens and which cgroup it runs in.
type Enforcer struct {
	Address4 netip.Addr // default 127.0.0.1
	Address6 netip.Addr // default ::1
	Port     uint16     // default 15001
	Cgroup   string     // default meshwarden/enforcer, relative to the cgroup2 root
}

// Tables is the policy compiled for the kernel datapath.
type Tables struct {
	Zones    map[string]uint32 // zone name -> id, WorldZone included with id 0
	Prefixes []ZonePrefix
	Rules    []ZoneRule
	Default  Verdict
}

// ZonePrefix maps one destination prefix to a zone id.
type ZonePrefix struct {
	Prefix netip.Prefix // IPv4 prefixes are 4-byte (Unmap()ed), IPv6 prefixes 16-byte
	Zone   uint32
}

// ZoneRule is one (source zone, destination zone, port) entry; Port 0 means any port.
type ZoneRule struct {
	SrcZone, DstZone uint32
	Port             uint16
	Verdict          Verdict
}
