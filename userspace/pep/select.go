package pep

import "github.com/meshwarden/meshwarden/policy"

// Select returns the domain Decide would choose for ex (first match in file order, else
// default_domain); ok is false when none applies (Decide then refuses with no_policy). An
// enforcer asks before Decide when what it prepares depends on the domain: whether to decode
// the body for classification and scrubbing, whether to pseudonymise identifiers.
func (e *Engine) Select(ex *Exchange) (d *policy.Domain, ok bool) {
	i, ok := e.policy.DomainIndex(ex.request())
	if !ok {
		return nil, false
	}
	return e.domains[i].policy, true
}

// Classifies reports whether the domain has sensitive_fields or detectors: bodies sent in it
// must be decoded (Exchange.Body) to be classified.
func Classifies(d *policy.Domain) bool {
	return len(d.SensitiveFields)+len(d.Detectors) > 0
}

// NeedsInspection reports whether a domain's policy can only be applied to a payload the
// enforcer understands: it classifies, masks metadata, or protects payloads at a tier other
// than PLAINTEXT. Bytes the enforcer cannot parse (an opaque TCP stream, a WebSocket, a binary
// or compressed body) are refused in such a domain (ReasonOpaquePayload): fail closed.
func NeedsInspection(d *policy.Domain) bool {
	return Classifies(d) || d.MetadataMasking || d.Tier != TierPlaintext
}
