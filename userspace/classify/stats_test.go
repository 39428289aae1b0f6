package classify

import (
	"strings"
	"testing"
)

// TestPrefilterLetsEveryMatchThroughAtEveryAlignment puts SSNs and card numbers in each of their
// printed forms at every offset within the 8-byte words statsOf counts in, and checks that
// mayMatch never skips the detector that finds them.
func TestPrefilterLetsEveryMatchThroughAtEveryAlignment(t *testing.T) {
	cases := []struct {
		d     Detector
		match string
	}{
		{SSN(), "123-45-6789"},
		{SSN(), "123 45 6789"},
		{PaymentCard(), "4111111111111111"},
		{PaymentCard(), "4111 1111 1111 1111"},
		{PaymentCard(), "4111-1111-1111-1111"},
		{PaymentCard(), "4222222222222"},
		{PaymentCard(), "6011 0009 9013 9424 121"}, // 19 digits in five groups: 23 bytes
		{PaymentCard(), "3782 822463 10005"},       // 4-6-5
	}
	checked := map[string]bool{}
	for _, c := range cases {
		for pad := range 24 {
			for _, tail := range []string{"", ".", " end", " and some words after it"} {
				s := strings.Repeat("x", pad) + " " + c.match + tail
				if len(c.d.Find(s, nil)) == 0 {
					continue // the detector itself rejects this form (e.g. a card failing Luhn)
				}
				checked[c.match] = true
				f := filterOf(c.d)
				st := statsOf(s, f.needs())
				if !f.mayMatch(&st) {
					t.Errorf("%s: prefilter skips %q (stats %+v)", c.d.Type(), s, st)
				}
			}
		}
	}
	if len(checked) < len(cases)-1 {
		t.Errorf("only %d of the %d forms are found by their detector: %v", len(checked), len(cases), checked)
	}
}

// TestPrefilterSkipsSparseDigits checks that text with many digits, none close together, skips
// the SSN and card detectors.
func TestPrefilterSkipsSparseDigits(t *testing.T) {
	s := strings.Repeat("document 17: revenue grew in every region. ", 22)
	st := statsOf(s, needDigits)
	if filterOf(SSN()).mayMatch(&st) || filterOf(PaymentCard()).mayMatch(&st) {
		t.Errorf("stats %+v let the SSN or card detector run", st)
	}
	if st.digits != 44 {
		t.Errorf("digits = %d, want 44", st.digits)
	}
}
