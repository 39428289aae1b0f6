package classify

import "github.com/meshwarden/meshwarden/policy"

// ibanLengths lists each country of the IBAN registry with the length of its IBANs, as
// "CCnn" entries. An IBAN of a country not listed here is not reported.
const ibanLengths = "AD24AE23AL28AT20AZ28BA20BE16BG22BH22BI27BR29BY28CH21CR22CY28CZ24DE22DJ27DK18DO28" +
	"EE20EG29ES24FI18FK18FO18FR27GB22GE22GI23GL18GR27GT28HN28HR21HU28IE22IL23IQ23IS26IT27" +
	"JO30KW30KZ20LB28LC32LI21LT20LU20LV21LY25MC27MD24ME22MK19MN20MR27MT31MU30NI28NL18NO15" +
	"OM23PK24PL28PS29PT25QA29RO24RS22RU33SA24SC31SD18SE24SI19SK24SM27SO23ST25SV28TL23TN24" +
	"TR26UA29VA22VG24XK20YE30"

// ibanLength returns the IBAN length of a country code, or 0.
func ibanLength(cc string) int {
	for i := 0; i+4 <= len(ibanLengths); i += 4 {
		if ibanLengths[i:i+2] == cc {
			return atoi(ibanLengths[i+2 : i+4])
		}
	}
	return 0
}

// iban finds International Bank Account Numbers: a country code of the IBAN registry, two
// check digits and the national part, in capitals, written together or in groups separated by
// single spaces, with exactly the country's length and a valid ISO 13616 mod-97 check.
type iban struct{}

func (iban) Type() string { return policy.DetectorIBAN }

func (iban) Find(s string, out []Span) []Span {
	for i := 0; i+15 <= len(s); i++ {
		if !isUpper(s[i]) || !isUpper(s[i+1]) || !isDigit(s[i+2]) || !isDigit(s[i+3]) || (i > 0 && isWord(s[i-1])) {
			continue
		}
		want := ibanLength(s[i : i+2])
		if want == 0 {
			continue
		}
		if end := ibanEnd(s, i, want); end > 0 {
			out = append(out, Span{Type: policy.DetectorIBAN, Offset: i, Length: end - i})
			i = end - 1
		}
	}
	return out
}

// ibanEnd returns the end of an IBAN of want characters starting at s[i], or 0.
func ibanEnd(s string, i, want int) int {
	var buf [34]byte
	n, j := 0, i
	for n < want && j < len(s) {
		c := s[j]
		switch {
		case isUpper(c) || isDigit(c):
			buf[n] = c
			n++
			j++
		case c == ' ' && j+1 < len(s) && (isUpper(s[j+1]) || isDigit(s[j+1])) && n > 0:
			j++
		default:
			return 0
		}
	}
	if n != want || (j < len(s) && isWord(s[j])) || !mod97(string(buf[:n])) {
		return 0
	}
	return j
}

// mod97 reports whether an IBAN (capitals and digits only) passes its check: with the first four characters moved to the
// end and letters read as 10..35, the number is 1 modulo 97.
func mod97(code string) bool {
	r := 0
	for k := 0; k < len(code); k++ {
		c := code[(k+4)%len(code)]
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A'+10)) % 97
		}
	}
	return r == 1
}
