package classify

import (
	"cmp"
	"slices"

	"github.com/meshwarden/meshwarden/policy"
)

// TypeField is the Finding.Type of a sensitive_fields match.
const TypeField = "field"

// Finding is one piece of sensitive data a Classifier found. It says what and where, never
// the data itself, so it can go into an audit record as it is.
type Finding struct {
	// Type is a policy.Detector* type, or TypeField for a sensitive_fields key.
	Type string
	// Key is, for TypeField, the object key as written in the document; "" otherwise.
	Key string
	// Path is where the value is in the JSON document (see the package's path notation);
	// "" for a finding in a plain text.
	Path string
	// Offset and Length locate a detector's match in bytes inside the string value (or the
	// text); for a number they are inside its decimal form. Both are 0 for TypeField, whose
	// finding is the whole value.
	Offset, Length int
	// Action is what the domain says to do about it.
	Action policy.Action
	// InKey: the detector matched the object key at Path (Offset and Length are inside the
	// key), not its value. Redaction renames the key.
	InKey bool
}

// Placeholder returns what a redacted detector match is replaced with: [redacted:<type>].
func Placeholder(detectorType string) string {
	return "[redacted:" + detectorType + "]"
}

// FieldPlaceholder returns what the value of a redacted sensitive field is replaced with:
// [redacted:field:<key>].
func FieldPlaceholder(key string) string {
	return "[redacted:field:" + key + "]"
}

// Blocked reports whether any finding's action is block.
func Blocked(findings []Finding) bool {
	for _, f := range findings {
		if f.Action == policy.ActionBlock {
			return true
		}
	}
	return false
}

// changes reports whether an action changes the value: redact does, and so does block, so
// that a refused body kept for the audit record does not hold what made it refused.
func changes(a policy.Action) bool {
	return a == policy.ActionRedact || a == policy.ActionBlock
}

// sortFindings orders findings by path, then offset, so that reports do not depend on the
// order Go iterates maps in.
func sortFindings(fs []Finding) {
	if len(fs) < 2 {
		return
	}
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Offset, b.Offset), cmp.Compare(a.Type, b.Type))
	})
}
