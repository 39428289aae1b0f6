package classify

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/policy"
)

// FuzzDetect checks that the detectors never panic and return ordered spans each of which
// passes its own detector's checks, that Detect's merged spans are ordered and disjoint, that
// redacting every match leaves nothing any detector finds away from the placeholders, and that a classifier can scan and
// redact any JSON document.
func FuzzDetect(f *testing.F) {
	for _, s := range []string{
		prose,
		"ssn 123-45-6789 card 4111 1111 1111 1111 mail a.b@example.com",
		"+44 (0)20 7946 0958 / (415) 555-2671 / 06 12 34 56 78",
		"DE89 3704 0044 0532 0130 00 GB82WEST12345698765432",
		"CANARY_abc mw-canary-7f3a 378282246310005 4111-1111-1111-1111-12",
		`{"password":"x","a":[{"ssn":"123-45-6789"},"{\"api_key\":\"k\"}"]}`,
		"",
	} {
		f.Add(s)
	}
	all := []Detector{SSN(), PaymentCard(), Email(), Phone(), IBAN(), Canary([]string{"mw-canary-7f3a"}, []string{"CANARY_"})}
	d := &policy.Domain{Name: "fuzz", Detectors: allDetectors(policy.ActionRedact), SensitiveFields: []policy.SensitiveField{{Key: "password", Action: policy.ActionBlock}}}
	c, err := New(d)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw := 0
		for _, d := range all {
			end := 0
			for _, sp := range d.Find(s, nil) {
				if sp.Offset < end || sp.Length <= 0 || sp.Offset+sp.Length > len(s) || sp.Type != d.Type() {
					t.Fatalf("bad %s span %+v after %d in %q", d.Type(), sp, end, s)
				}
				end = sp.Offset + sp.Length
				checkSpan(t, s, sp)
				raw++
			}
		}
		end := 0
		for _, sp := range Detect(s, all...) {
			if sp.Offset < end || sp.Length <= 0 || sp.Offset+sp.Length > len(s) {
				t.Fatalf("bad merged span %+v after %d in %q", sp, end, s)
			}
			end = sp.Offset + sp.Length
		}
		redacted, fs := c.RedactText(s)
		if len(fs) != raw {
			t.Fatalf("RedactText found %d, the detectors %d", len(fs), raw)
		}
		for _, sp := range Detect(redacted, all...) {
			// Text next to a placeholder (within the two characters the boundary rules look
			// at) was next to sensitive data, which can have kept a detector from taking it (a
			// number glued to a longer one); anything else is a leak.
			before, after := redacted[:sp.Offset], redacted[sp.Offset+sp.Length:]
			if !strings.Contains(before[max(0, len(before)-2):], "]") && !strings.Contains(after[:min(len(after), 2)], "[") {
				t.Fatalf("after redaction %s still finds %q in %q (from %q)", sp.Type, redacted[sp.Offset:sp.Offset+sp.Length], redacted, s)
			}
		}
		var v any
		if json.Unmarshal([]byte(s), &v) == nil {
			c.Scan(v)
			c.Redact(v)
		}
	})
}

// checkSpan asserts that a span's text is what its detector promises.
func checkSpan(t *testing.T, s string, sp Span) {
	t.Helper()
	text := s[sp.Offset : sp.Offset+sp.Length]
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, text)
	switch sp.Type {
	case policy.DetectorSSN:
		if len(digits) != 9 || len(text) != 11 {
			t.Fatalf("ssn %q", text)
		}
	case policy.DetectorPaymentCard:
		if len(digits) < 13 || len(digits) > 19 || !luhn(digits, []group{{0, len(digits)}}) {
			t.Fatalf("card %q", text)
		}
	case policy.DetectorIBAN:
		if !mod97(strings.ReplaceAll(text, " ", "")) {
			t.Fatalf("iban %q", text)
		}
	case policy.DetectorEmail:
		if strings.Count(text, "@") != 1 {
			t.Fatalf("email %q", text)
		}
	case policy.DetectorPhone:
		if len(digits) < 8 || len(digits) > 16 {
			t.Fatalf("phone %q", text)
		}
	case policy.DetectorCanary:
		if !strings.HasPrefix(text, "CANARY_") && text != "mw-canary-7f3a" {
			t.Fatalf("canary %q", text)
		}
	default:
		t.Fatalf("unknown type %q", sp.Type)
	}
}
