package classify

import "github.com/meshwarden/meshwarden/policy"

// ssn finds US social security numbers written AAA-GG-SSSS or AAA GG SSSS, standing alone
// (not part of a longer number), that follow the Social Security Administration's rules: the
// area is not 000, 666 or 900-999, the group is not 00 and the serial is not 0000. Nine digits
// without separators are not reported: too many other numbers look like them.
type ssn struct{}

func (ssn) Type() string { return policy.DetectorSSN }

func (ssn) Find(s string, out []Span) []Span {
	var r run
	for i := 0; i < len(s); {
		next, ok := r.next(s, i)
		if !ok {
			break
		}
		i = next
		if !r.bounded() || r.count != 3 || r.groups[0].n != 3 || r.groups[1].n != 2 || r.groups[2].n != 4 {
			continue
		}
		if validSSN(s, r.groups[0].off, r.groups[1].off, r.groups[2].off) {
			out = append(out, Span{Type: policy.DetectorSSN, Offset: r.start(), Length: r.end() - r.start()})
		}
	}
	return out
}

// validSSN applies the area, group and serial rules to the digits at a, g and sr.
func validSSN(s string, a, g, sr int) bool {
	area := atoi(s[a : a+3])
	return area != 0 && area != 666 && area < 900 && s[g:g+2] != "00" && s[sr:sr+4] != "0000"
}

// atoi reads a short run of ASCII digits.
func atoi(digits string) int {
	n := 0
	for i := 0; i < len(digits); i++ {
		n = n*10 + int(digits[i]-'0')
	}
	return n
}
