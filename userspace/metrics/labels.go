package metrics

import "strings"

// Label values outside a bounded set are reported as this.
const other = "other"

// Verdicts, as the kernel and the enforcer write them.
var verdicts = []string{"ALLOW", "DENY", "REDIRECT"}

// Reason codes of enforcer refusals. The enforcer's reasons may carry free text after a colon
// ("dial_failed: dial tcp ...: connection refused"); only the code before it is a label value.
const (
	ReasonNoOriginalDestination = "no_original_destination"
	ReasonUnknownAgent          = "unknown_agent"
	ReasonDialFailed            = "dial_failed"
	ReasonBadRequest            = "bad_request"
)

// refusalReasons are the refusal codes meshwarden_enforcer_refusals_total knows and is
// initialised with: the relay's own, the PEP's (userspace/pep) and the identity layer's
// credential codes, all stable names that audit records carry. Any other reason is "other".
var refusalReasons = []string{
	// the relay
	ReasonNoOriginalDestination, ReasonUnknownAgent, ReasonDialFailed, ReasonBadRequest,
	"no_policy_engine", "upstream_failed", "pseudonym_failed", "incomplete_body",
	// the PEP
	"no_policy", "body_too_large", "credential_missing", "credential_expired", "role_not_allowed",
	"attestation_missing", "attestation_mismatch", "classification_block", "tier_unavailable",
	"tier_failed", "opaque_payload",
	// credential verification
	"credential_not_yet_valid", "credential_bad_signature", "credential_unknown_key",
	"credential_replayed", "credential_revoked", "credential_wrong_audience",
	"credential_malformed", "credential_wrong_node",
	// input the enforcer could not read, and its own refusals
	"header_timeout", "header_too_large", "malformed_body", "invalid_jsonrpc", "mcp_header_mismatch",
	"pipelining_refused", "audit_failed", "audit_unavailable",
	// the tunnel
	"tunnel_failed",
}

// reasonFamilies are the prefixes of code families that may grow (the identity layer's
// credential_* codes, ...): an unknown code with one of them is reported as <prefix>other
// (credential_other) rather than "other", so its family still shows.
var reasonFamilies = []string{"credential_", "attestation_", "tier_", "tunnel_", "header_"}

// Outcomes of an exchange that are no refusal.
const (
	reasonRelayed    = "relayed"
	reasonRelayError = "relay_error"
)

// protocols are the protocol label values; "none" is an exchange refused before its first byte.
var protocols = []string{"none", "tcp", "http/1.1", "mcp", "a2a", "openai", "jsonrpc"}

// ReasonCode maps a reason as the audit log writes it to its code: the text before the first
// colon when that is a known code, else <family>other when it starts with the prefix of a code
// family (credential_other, ...), else "other".
func ReasonCode(reason string) string {
	code, _, _ := strings.Cut(reason, ":")
	code = strings.TrimSpace(code)
	if code == reasonRelayed || code == reasonRelayError {
		return code
	}
	if c := oneOf(code, refusalReasons); c != other {
		return c
	}
	for _, p := range reasonFamilies {
		if strings.HasPrefix(code, p) {
			return p + other
		}
	}
	return other
}

// oneOf returns v when it is in set, else "other".
func oneOf(v string, set []string) string {
	for _, s := range set {
		if v == s {
			return v
		}
	}
	return other
}

// protocolLabel names an exchange's protocol; empty means it was refused before any byte.
func protocolLabel(p string) string {
	if p == "" {
		return "none"
	}
	return oneOf(p, protocols)
}

// nameLabel is a name the policy declares (a zone, an agent); empty when there is none.
func nameLabel(name, none string) string {
	if name == "" {
		return none
	}
	return name
}
