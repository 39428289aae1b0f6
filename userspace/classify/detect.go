// Package classify finds sensitive data in what agents send and receive: detectors for
// social security numbers, payment cards, e-mail addresses, phone numbers, IBANs and canary
// tokens in text, and a domain's sensitive_fields in decoded JSON. A Classifier, built from
// one policy.Domain, scans a JSON value or a text, reports findings with their JSON path and
// the domain's action, and redacts what the action says to redact.
//
// Findings never hold the data they found, only where it is and what kind it is, so they can
// go into audit records as they are.
//
// Paths name values in a JSON document the JSONPath way: $ is the root, .key an object member
// (["key"] when the key is not an identifier), [i] an array element. A string that holds a
// JSON object or array itself (the arguments of an OpenAI tool call) is scanned as JSON and
// entered with #json: $.tool_calls[0].function.arguments#json.ssn.
package classify

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/meshwarden/meshwarden/policy"
)

// Span is one piece of sensitive data in a text: which detector found it and where.
type Span struct {
	Type   string // a policy.Detector* type
	Offset int    // byte offset in the text
	Length int    // byte length
}

// Detector finds one kind of sensitive data in text. Detectors hold no state and are safe
// for concurrent use.
type Detector interface {
	// Type is the policy.Detector* type of what the detector finds.
	Type() string
	// Find appends the spans of s it detects to out, in order of offset, and returns out.
	Find(s string, out []Span) []Span
}

// SSN returns the detector of US social security numbers (see policy.DetectorSSN): AAA-GG-SSSS
// or AAA GG SSSS standing alone, area not 000, 666 or 900-999, group not 00, serial not 0000.
func SSN() Detector { return ssn{} }

// PaymentCard returns the detector of payment card numbers: 13 to 19 digits starting with 2-6,
// plain or in the printed groupings, passing the Luhn check.
func PaymentCard() Detector { return paymentCard{} }

// Email returns the detector of e-mail addresses.
func Email() Detector { return email{} }

// Phone returns the detector of phone numbers: E.164 (+...), North American and European
// national formats with separators; never a plain run of digits.
func Phone() Detector { return phone{} }

// IBAN returns the detector of IBANs of the registry's countries with a valid mod-97 check.
func IBAN() Detector { return iban{} }

// Canary returns a detector of canary tokens: each literal wherever it appears, each prefix
// with the letters, digits, _ and - that follow it. Empty literals and prefixes are ignored.
func Canary(literals, prefixes []string) Detector {
	return canary{literals: nonEmpty(literals), prefixes: nonEmpty(prefixes)}
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// NewDetector returns the detector a policy entry describes.
func NewDetector(d policy.Detector) (Detector, error) {
	switch d.Type {
	case policy.DetectorSSN:
		return SSN(), nil
	case policy.DetectorPaymentCard:
		return PaymentCard(), nil
	case policy.DetectorEmail:
		return Email(), nil
	case policy.DetectorPhone:
		return Phone(), nil
	case policy.DetectorIBAN:
		return IBAN(), nil
	case policy.DetectorCanary:
		c := Canary(d.Literals, d.Prefixes)
		if len(c.(canary).literals)+len(c.(canary).prefixes) == 0 {
			return nil, fmt.Errorf("canary detector without literals or prefixes")
		}
		return c, nil
	}
	return nil, fmt.Errorf("unknown detector type %q", d.Type)
}

// priority orders detector types for overlapping spans: the more specific wins.
func priority(t string) int {
	switch t {
	case policy.DetectorCanary:
		return 6
	case policy.DetectorPaymentCard:
		return 5
	case policy.DetectorIBAN:
		return 4
	case policy.DetectorSSN:
		return 3
	case policy.DetectorEmail:
		return 2
	case policy.DetectorPhone:
		return 1
	}
	return 0
}

// Detect runs the detectors over s and returns what they found in order of offset, as
// non-overlapping spans: spans that overlap are merged into one covering them all, typed after
// the most specific of them (canary, payment_card, iban, ssn, email, phone), so that redacting
// the spans removes every match whole.
func Detect(s string, detectors ...Detector) []Span {
	return mergeSpans(detectAll(s, detectors, nil), func(Span) bool { return true })
}

// detectAll appends every detector's spans to out, sorted by offset (longer first at one
// offset), overlaps included.
func detectAll(s string, detectors []Detector, out []Span) []Span {
	var filters [8]prefilter
	if len(detectors) > len(filters) {
		ds := newDetectorSet(detectors)
		return ds.detect(s, out)
	}
	ds := detectorSet{detectors: detectors, filters: filters[:len(detectors)]}
	for i, d := range detectors {
		ds.filters[i] = filterOf(d)
		ds.need |= ds.filters[i].needs()
	}
	return ds.detect(s, out)
}

// detect is detectAll with the set's detectors.
func (ds *detectorSet) detect(s string, out []Span) []Span {
	base := len(out)
	st := statsOf(s, ds.need)
	for i, d := range ds.detectors {
		if !ds.filters[i].mayMatch(&st) {
			continue
		}
		out = d.Find(s, out)
	}
	if found := out[base:]; len(found) > 1 {
		slices.SortFunc(found, func(a, b Span) int {
			return cmp.Or(cmp.Compare(a.Offset, b.Offset), cmp.Compare(b.Length, a.Length))
		})
	}
	return out
}

// mergeSpans returns the spans keep accepts, from spans sorted by offset, with overlapping
// ones merged into one typed after the most specific. It allocates a new slice.
func mergeSpans(spans []Span, keep func(Span) bool) []Span {
	var out []Span
	for _, sp := range spans {
		if !keep(sp) {
			continue
		}
		if n := len(out); n > 0 && sp.Offset < out[n-1].Offset+out[n-1].Length {
			last := &out[n-1]
			last.Length = max(last.Offset+last.Length, sp.Offset+sp.Length) - last.Offset
			if priority(sp.Type) > priority(last.Type) {
				last.Type = sp.Type
			}
			continue
		}
		out = append(out, sp)
	}
	return out
}
