package classify

import (
	"fmt"
	"testing"

	"github.com/meshwarden/meshwarden/policy"
)

// found returns the texts d finds in s.
func found(d Detector, s string) []string {
	var out []string
	for _, sp := range d.Find(s, nil) {
		if sp.Type != d.Type() {
			panic(fmt.Sprintf("span of type %s from the %s detector", sp.Type, d.Type()))
		}
		out = append(out, s[sp.Offset:sp.Offset+sp.Length])
	}
	return out
}

// detectorCase is a text and the one match a detector should find in it ("" for none).
type detectorCase struct {
	text, want string
}

func checkDetector(t *testing.T, d Detector, cases []detectorCase) {
	t.Helper()
	for _, c := range cases {
		got := found(d, c.text)
		switch {
		case c.want == "" && len(got) != 0:
			t.Errorf("%s found %q in %q, want nothing", d.Type(), got, c.text)
		case c.want != "" && (len(got) != 1 || got[0] != c.want):
			t.Errorf("%s found %q in %q, want [%q]", d.Type(), got, c.text, c.want)
		}
	}
}

func TestSSNFollowsAreaGroupSerialRules(t *testing.T) {
	checkDetector(t, SSN(), []detectorCase{
		{"ssn 123-45-6789.", "123-45-6789"},
		{"SSN:078-05-1120", "078-05-1120"},
		{`{"ssn":"899-99-9999"}`, "899-99-9999"},
		{"spaced 123 45 6789 here", "123 45 6789"},
		{"area 000: 000-12-3456", ""},
		{"area 666: 666-12-3456", ""},
		{"area 9xx: 900-12-3456 and 999-12-3456", ""},
		{"group 00: 123-00-4567", ""},
		{"serial 0000: 123-45-0000", ""},
		{"mixed separators 123-45 6789", ""},
		{"no separators 123456789", ""},
		{"longer number 1123-45-6789", ""},
		{"longer serial 123-45-67890", ""},
		{"inside an id x123-45-6789", ""},
		{"continued 123-45-6789-1", ""},
		{"decimal 123-45-6789.5", ""},
		{"a date 2024-01-15", ""},
	})
}

func TestPaymentCardNeedsLuhnAndCardShape(t *testing.T) {
	checkDetector(t, PaymentCard(), []detectorCase{
		{"visa 4111111111111111 ok", "4111111111111111"},
		{"visa 4111 1111 1111 1111", "4111 1111 1111 1111"},
		{"visa 4111-1111-1111-1111.", "4111-1111-1111-1111"},
		{"mastercard 5555555555554444", "5555555555554444"},
		{"2-series 2223003122003222", "2223003122003222"},
		{"amex 378282246310005", "378282246310005"},
		{"amex printed 3782 822463 10005", "3782 822463 10005"},
		{"discover 6011111111111117", "6011111111111117"},
		{"visa 13 4222222222222", "4222222222222"},
		{"19 digits " + withLuhn("601100099013942400"), withLuhn("601100099013942400")},
		{"19 digits grouped 6011 0009 9013 9424 " + withLuhn("601100099013942400")[16:], "6011 0009 9013 9424 " + withLuhn("601100099013942400")[16:]},
		{"with expiry 4111 1111 1111 1111 12/27", "4111 1111 1111 1111"},
		{"hyphenated into more 4111-1111-1111-1111-12", ""},
		{"qty 1 4111 1111 1111 1111", "4111 1111 1111 1111"},
		{"Luhn-invalid 4111111111111112", ""},
		{"Luhn-invalid grouped 4111 1111 1111 1112", ""},
		{"starts with 1: 1234567812345670", ""},
		{"starts with 9: 9111111111111111", ""},
		{"20 digits 41111111111111111111", ""},
		{"12 digits 411111111111", ""},
		{"mixed separators 4111 1111-1111 1111", ""},
		{"odd grouping 41 1111 1111 1111 11", ""},
		{"decimal 4111111111111111.5", ""},
		{"in a word card4111111111111111", ""},
		{"after a version v1.4111111111111111", ""},
		{"phone-like +4111111111111111", ""},
	})
}

func TestEmailNeedsADomainWithALetterTLD(t *testing.T) {
	checkDetector(t, Email(), []detectorCase{
		{"mail alice@example.com today", "alice@example.com"},
		{"<a.b+tag@sub.example.co.uk>", "a.b+tag@sub.example.co.uk"},
		{"end of sentence bob@example.org.", "bob@example.org"},
		{"user@localhost", ""},
		{"npm pkg@1.2.3", ""},
		{"scoped @scope/pkg", ""},
		{"short tld x@y.z", ""},
		{"decorator @param name", ""},
		{"dot first .@example.com", ""},
		{"dot last alice.@example.com", ""},
		{"label hyphen a@-example.com", ""},
		{"glued a@b.cd@e.fg", "a@b.cd"},
	})
}

func TestPhoneFindsE164AndSeparatedNationalNumbers(t *testing.T) {
	checkDetector(t, Phone(), []detectorCase{
		{"call +1 415 555 2671 now", "+1 415 555 2671"},
		{"call +14155552671", "+14155552671"},
		{"uk +44 20 7946 0958", "+44 20 7946 0958"},
		{"uk +44 (0)20 7946 0958", "+44 (0)20 7946 0958"},
		{"us +1 (415) 555-2671", "+1 (415) 555-2671"},
		{"fr +33 6 12 34 56 78", "+33 6 12 34 56 78"},
		{"us (415) 555-2671", "(415) 555-2671"},
		{"us 415-555-2671", "415-555-2671"},
		{"us 415.555.2671", "415.555.2671"},
		{"us 415 555 2671", "415 555 2671"},
		{"us 1-415-555-2671", "1-415-555-2671"},
		{"Tel:415-555-2671", "415-555-2671"},
		{"uk 020 7946 0958", "020 7946 0958"},
		{"fr 06 12 34 56 78", "06 12 34 56 78"},
		{"de 030/1234567", "030/1234567"},
		{"plain 4155552671", ""},
		{"plain +12345678", ""},
		{"area code 1: 123-456-7890", ""},
		{"mixed 415-555.2671", ""},
		{"card 4111 1111 1111 1111", ""},
		{"card 5500 0000 0000 0004", ""},
		{"date 2024-05-06", ""},
		{"date 01.02.2024", ""},
		{"address 10.0.0.1", ""},
		{"version v1.415.555.2671", ""},
		{"longer 415-555-26711", ""},
		{"international prefix 0049 30 1234567", ""},
		{"plus half +1.5", ""},
	})
}

func TestIBANNeedsCountryLengthAndMod97(t *testing.T) {
	checkDetector(t, IBAN(), []detectorCase{
		{"pay DE89 3704 0044 0532 0130 00 now", "DE89 3704 0044 0532 0130 00"},
		{"pay DE89370400440532013000.", "DE89370400440532013000"},
		{"GB82 WEST 1234 5698 7654 32", "GB82 WEST 1234 5698 7654 32"},
		{"FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606"},
		{"NO9386011117947", "NO9386011117947"},
		{"bad check DE89 3704 0044 0532 0130 01", ""},
		{"too short DE89 3704 0044 0532 0130 0", ""},
		{"too long DE89370400440532013000X", ""},
		{"unknown country XX89370400440532013000", ""},
		{"lowercase de89370400440532013000", ""},
		{"in a word xDE89370400440532013000", ""},
	})
}

func TestCanaryByLiteralAndPrefix(t *testing.T) {
	d := Canary([]string{"mw-canary-7f3a"}, []string{"CANARY_"})
	checkDetector(t, d, []detectorCase{
		{"token CANARY_a1b2-c3 leaked", "CANARY_a1b2-c3"},
		{`{"k":"xCANARY_Z9."}`, "CANARY_Z9"},
		{"literal mw-canary-7f3a.", "mw-canary-7f3a"},
		{"case matters canary_abc", ""},
		{"prefix alone CANARY_", "CANARY_"},
	})
	if got := found(d, "CANARY_1 and CANARY_2 and mw-canary-7f3a"); len(got) != 3 {
		t.Errorf("found %q, want three canaries", got)
	}
}

func TestDetectMergesOverlappingSpansUnderTheMoreSpecificType(t *testing.T) {
	all := []Detector{SSN(), PaymentCard(), Email(), Phone(), IBAN(), Canary(nil, []string{"4111"})}
	spans := Detect("card 4111 1111 1111 1111 mail a@example.com ssn 123-45-6789", all...)
	if spans[0].Offset != 5 || spans[0].Length != len("4111 1111 1111 1111") {
		t.Errorf("merged span %+v does not cover the card", spans[0])
	}
	var types []string
	for _, s := range spans {
		types = append(types, s.Type)
	}
	want := []string{policy.DetectorCanary, policy.DetectorEmail, policy.DetectorSSN}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("types = %v, want %v (spans %+v)", types, want, spans)
	}
}

func TestNewDetectorRefusesUnknownTypesAndEmptyCanaries(t *testing.T) {
	if _, err := NewDetector(policy.Detector{Type: "passport"}); err == nil {
		t.Error("unknown type accepted")
	}
	if _, err := NewDetector(policy.Detector{Type: policy.DetectorCanary, Literals: []string{""}}); err == nil {
		t.Error("canary without tokens accepted")
	}
	for _, typ := range policy.DetectorTypes() {
		d, err := NewDetector(policy.Detector{Type: typ, Prefixes: []string{"CANARY_"}})
		if err != nil || d.Type() != typ {
			t.Errorf("NewDetector(%s) = %v, %v", typ, d, err)
		}
	}
}

// withLuhn returns digits followed by their Luhn check digit.
func withLuhn(digits string) string {
	for d := '0'; d <= '9'; d++ {
		s := digits + string(d)
		if luhn(s, []group{{0, len(s)}}) {
			return s
		}
	}
	panic("no check digit")
}
