package classify

import (
	"fmt"
	"strings"
	"sync"

	"github.com/meshwarden/meshwarden/policy"
)

// Classifier applies one domain's sensitive_fields and detectors. It is immutable and safe
// for concurrent use; build a new one when the policy changes.
type Classifier struct {
	fields    fieldSet
	detectors []Detector
	set       detectorSet              // detectors with their prefilters
	actions   map[string]policy.Action // detector type -> action

	walkers sync.Pool // of *walker, for newWalker
}

// New returns the Classifier of a domain. It fails when the domain names a detector type or
// an action this package does not know (a Domain from policy.Parse never does).
func New(d *policy.Domain) (*Classifier, error) {
	fields, err := newFieldSet(d.SensitiveFields)
	if err != nil {
		return nil, fmt.Errorf("classifier for domain %q: %w", d.Name, err)
	}
	c := &Classifier{fields: fields, actions: map[string]policy.Action{}}
	for _, pd := range d.Detectors {
		det, err := NewDetector(pd)
		if err != nil {
			return nil, fmt.Errorf("classifier for domain %q: %w", d.Name, err)
		}
		if !validAction(pd.Action) {
			return nil, fmt.Errorf("classifier for domain %q: %w", d.Name, &actionError{what: "detector " + pd.Type, action: pd.Action})
		}
		if _, dup := c.actions[pd.Type]; dup {
			return nil, fmt.Errorf("classifier for domain %q: detector %s given twice", d.Name, pd.Type)
		}
		c.actions[pd.Type] = pd.Action
		c.detectors = append(c.detectors, det)
	}
	c.set = newDetectorSet(c.detectors)
	return c, nil
}

// Empty reports whether the classifier has nothing to look for: scanning is then a no-op.
func (c *Classifier) Empty() bool {
	return c.fields.empty() && len(c.detectors) == 0
}

// Scan returns the findings in a decoded JSON value (what encoding/json decodes into `any`:
// map[string]any, []any, string, float64 or json.Number, bool, nil), in order of path. It
// does not change v.
func (c *Classifier) Scan(v any) []Finding {
	if c.Empty() {
		return nil
	}
	w := newWalker(c, false, true)
	w.value(v)
	sortFindings(w.findings)
	return w.done()
}

// Redact is Scan that also replaces what the findings' actions say to replace (redact, and
// block so that a refused body kept for audit does not hold it): a sensitive field's whole
// value with FieldPlaceholder, a detector's match inside a string with Placeholder, and a
// number holding a match with the placeholder as a string. Maps and slices are changed in
// place; the returned value is the new root (different from v only when v is a string or
// number that was replaced).
func (c *Classifier) Redact(v any) (any, []Finding) {
	if c.Empty() {
		return v, nil
	}
	w := newWalker(c, true, true)
	out, _ := w.value(v)
	sortFindings(w.findings)
	return out, w.done()
}

// ScanText returns the detectors' findings in a plain text (Path ""), in order of offset.
// Findings of different detectors may overlap (a canary inside a card number): each is
// reported with its own action.
// sensitive_fields do not apply to plain text.
func (c *Classifier) ScanText(s string) []Finding {
	if len(c.detectors) == 0 {
		return nil
	}
	w := newWalker(c, false, false)
	w.text(s)
	return w.done()
}

// RedactText is ScanText that also replaces the matches whose action is redact or block.
func (c *Classifier) RedactText(s string) (string, []Finding) {
	if len(c.detectors) == 0 {
		return s, nil
	}
	w := newWalker(c, true, false)
	out, _ := w.text(s)
	return out, w.done()
}

// replaceSpans returns s with the spans whose action changes values replaced by
// placeholders; overlapping ones are replaced together, by the placeholder of the most
// specific. spans are sorted by offset.
func (c *Classifier) replaceSpans(s string, spans []Span) string {
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, sp := range mergeSpans(spans, func(sp Span) bool { return changes(c.actions[sp.Type]) }) {
		b.WriteString(s[last:sp.Offset])
		b.WriteString(Placeholder(sp.Type))
		last = sp.Offset + sp.Length
	}
	b.WriteString(s[last:])
	return b.String()
}
