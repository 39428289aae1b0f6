package pep

import (
	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/classify"
	"github.com/meshwarden/meshwarden/userspace/scrub"
)

// Decision is what the PEP decided about one exchange, and everything the audit record needs.
// It holds no value of the body beyond Body and Payload themselves: findings, redactions and
// the scrub summary are names and places only.
type Decision struct {
	Domain  string // "" for no_policy
	Tier    string
	Verdict Verdict
	// Reasons are every check that failed, in the order they are checked; Reasons[0] is the
	// one a refusal reports. Empty when Verdict is Allow.
	Reasons []Reason
	// Findings are what classification found; Redactions are those it replaced in Body.
	Findings   []classify.Finding
	Redactions []Redaction
	// Scrubbed names the headers and metadata keys removed or normalised.
	Scrubbed scrub.Summary
	// Body is the body after redaction and scrubbing (what the audit record may hold).
	// BodyChanged says whether it differs from what the agent sent. A Lazy body with nothing
	// to find or scrub is not decoded: Body is then nil.
	Body        any
	BodyChanged bool
	// Payload is the body to forward: encoded (Raw when nothing changed) and protected for
	// the tier. Nil when the verdict is Deny or there is no body.
	Payload []byte
	// Policy is the domain's policy (audit_level, audit_payloads, audit_before_forward...);
	// nil for no_policy.
	Policy *policy.Domain
	// Err is the tier protector's error behind tier_failed.
	Err error
}

// Redaction is one replacement classification made: where, and what kind of data.
type Redaction struct {
	Path string // JSON path; "" for a plain text
	Type string // detector type, or classify.TypeField
}

// Reason returns the reason a refusal reports: the first failed check, or "" when allowed.
func (d *Decision) Reason() Reason {
	if len(d.Reasons) == 0 {
		return ""
	}
	return d.Reasons[0]
}

// deny records a failed check.
func (d *Decision) deny(r Reason) {
	d.Verdict = Deny
	d.Reasons = append(d.Reasons, r)
}

// redactions lists the findings whose action changed the body.
func redactions(fs []classify.Finding) []Redaction {
	var out []Redaction
	for _, f := range fs {
		if f.Action == policy.ActionRedact || f.Action == policy.ActionBlock {
			out = append(out, Redaction{Path: f.Path, Type: f.Type})
		}
	}
	return out
}
