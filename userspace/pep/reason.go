// Package pep is the Policy Enforcement Point's decision: for one exchange it selects the
// data domain, checks the source's credential, role and attestation and the classification
// of the body, as the original design's MeshSecurityController.validateExchange does, then
// redacts, scrubs metadata and applies the domain's tier protection.
//
// An Engine is built from a *policy.Policy, is immutable and safe for concurrent use. Hot
// reload is the caller's: build a new Engine and swap an atomic.Pointer.
package pep

// Verdict is what happens to an exchange.
type Verdict uint8

const (
	Deny Verdict = iota // the zero value: an unfinished Decision never allows
	Allow
)

// String returns ALLOW or DENY.
func (v Verdict) String() string {
	if v == Allow {
		return "ALLOW"
	}
	return "DENY"
}

// Reason is why an exchange was refused. The codes are stable: audit records and refusal
// bodies carry them.
type Reason string

// Reasons, in the order Decide checks them.
const (
	// ReasonNoPolicy: no domain's match selects the request and there is no default_domain.
	ReasonNoPolicy Reason = "no_policy"
	// ReasonBodyTooLarge: the body is larger than the domain's max_body_bytes.
	ReasonBodyTooLarge Reason = "body_too_large"
	// ReasonCredentialMissing: the source has no credential.
	ReasonCredentialMissing Reason = "credential_missing"
	// ReasonCredentialExpired: the source's credential has expired, or is older than the
	// domain's max_token_age_ms (the global rotation interval when unset). The identity
	// layer's own codes (credential_revoked, ...) pass through Identity.CredentialRefused.
	ReasonCredentialExpired Reason = "credential_expired"
	// ReasonRoleNotAllowed: the source's role is not in the domain's allowed_roles.
	ReasonRoleNotAllowed Reason = "role_not_allowed"
	// ReasonAttestationMissing: the domain requires attestation and the source has no
	// measurement.
	ReasonAttestationMissing Reason = "attestation_missing"
	// ReasonAttestationMismatch: the source's measurement is not one its agent accepts.
	ReasonAttestationMismatch Reason = "attestation_mismatch"
	// ReasonClassificationBlock: a sensitive field or detector whose action is block matched.
	ReasonClassificationBlock Reason = "classification_block"
	// ReasonTierUnavailable: no TierProtector serves the domain's tier (fail closed).
	ReasonTierUnavailable Reason = "tier_unavailable"
	// ReasonTierFailed: the tier's protector returned an error.
	ReasonTierFailed Reason = "tier_failed"
	// ReasonOpaquePayload: the payload is not one the enforcer understands (an opaque TCP
	// stream, a WebSocket or CONNECT tunnel, a binary or compressed body) and the domain
	// needs inspection (NeedsInspection). The enforcer reports it; Decide never does.
	ReasonOpaquePayload Reason = "opaque_payload"
)
