package classify

import "github.com/meshwarden/meshwarden/policy"

// phone finds telephone numbers in three forms:
//   - E.164 and its printed forms: + and 8 to 15 digits, optionally grouped by single spaces,
//     hyphens, dots or parentheses (+1 (415) 555-2671, +44 20 7946 0958, +44 (0)20 7946 0958);
//     without any separator it needs at least 10 digits;
//   - North American: (415) 555-2671, 415-555-2671, 415.555.2671, 415 555 2671, optionally
//     after 1 and a separator, where the area code and the exchange start with 2-9;
//   - European national: a first group starting with 0 (not 00) and further groups of at least
//     two digits, one separator throughout (space, hyphen, dot or slash), 9 to 12 digits in all
//     (020 7946 0958, 06 12 34 56 78, 030/1234567).
//
// A number that is not set off from the text around it (inside a longer number, a card
// number, a date or an identifier) is not reported, nor is any plain run of digits.
type phone struct{}

func (phone) Type() string { return policy.DetectorPhone }

func (phone) Find(s string, out []Span) []Span {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '+' && c != '(' && !isDigit(c) {
			i++
			continue
		}
		if phoneStartOK(s, i) {
			if end := matchPhone(s, i); end > 0 {
				out = append(out, Span{Type: policy.DetectorPhone, Offset: i, Length: end - i})
				i = end
				continue
			}
		}
		i = skipDigits(s, i+1)
	}
	return out
}

func isPhoneSep(c byte) bool {
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/'
}

// phoneStartOK reports whether a phone number may start at s[i]: not inside a word or inside
// a longer number.
func phoneStartOK(s string, i int) bool {
	if i == 0 {
		return true
	}
	p := s[i-1]
	if isWord(p) || p == '+' {
		return false
	}
	if i < 2 {
		return true
	}
	pp := s[i-2]
	if isWord(pp) && (p == '-' || p == '.' || p == '/') {
		return false // id-555..., v1.555...
	}
	return !(isDigit(pp) && (isPhoneSep(p) || isNumberJoiner(p))) // inside a longer number
}

// phoneEndOK reports whether a phone number may end before s[j].
func phoneEndOK(s string, j int) bool {
	if j >= len(s) {
		return true
	}
	c := s[j]
	if isWord(c) {
		return false
	}
	return !((isPhoneSep(c) || isNumberJoiner(c)) && j+1 < len(s) && isDigit(s[j+1]))
}

// matchPhone returns the end of the phone number starting at s[i], or 0.
func matchPhone(s string, i int) int {
	if s[i] == '+' {
		return matchE164(s, i)
	}
	if end := matchNANP(s, i); end > 0 {
		return end
	}
	return matchEuropean(s, i)
}

// matchE164 reads + and grouped digits.
func matchE164(s string, i int) int {
	j := i + 1
	if j >= len(s) || s[j] < '1' || s[j] > '9' {
		return 0
	}
	digits, seps, trunk := 0, 0, false
	for {
		k := skipDigits(s, j)
		digits += k - j
		j = k
		// A separator is one or two of space - . ( ) followed by a digit.
		n := 0
		for n < 2 && j+n < len(s) && isPhoneSep(s[j+n]) && s[j+n] != '/' {
			n++
		}
		if n == 0 || j+n >= len(s) || !isDigit(s[j+n]) {
			break
		}
		if s[j+n-1] == '(' && j+n+2 < len(s) && s[j+n] == '0' && s[j+n+1] == ')' {
			trunk = true
		}
		seps++
		j += n
	}
	if trunk {
		digits--
	}
	if digits < 8 || digits > 15 || (seps == 0 && digits < 10) || !phoneEndOK(s, j) {
		return 0
	}
	return j
}

// matchNANP reads a North American number.
func matchNANP(s string, i int) int {
	j := i
	if s[j] == '1' && j+1 < len(s) && (s[j+1] == ' ' || s[j+1] == '-' || s[j+1] == '.') {
		j += 2
	}
	var sep byte
	switch {
	case j < len(s) && s[j] == '(':
		if !nanpGroup(s, j+1, 3) || j+4 >= len(s) || s[j+4] != ')' {
			return 0
		}
		j += 5
		if j < len(s) && s[j] == ' ' {
			j++
		}
	case nanpGroup(s, j, 3) && j+3 < len(s) && (s[j+3] == ' ' || s[j+3] == '-' || s[j+3] == '.'):
		sep = s[j+3]
		j += 4
	default:
		return 0
	}
	if !nanpGroup(s, j, 3) || j+3 >= len(s) {
		return 0
	}
	if c := s[j+3]; (sep != 0 && c != sep) || (sep == 0 && c != ' ' && c != '-' && c != '.') {
		return 0
	}
	j += 4
	if digitsAt(s, j) != 4 || !phoneEndOK(s, j+4) {
		return 0
	}
	return j + 4
}

// nanpGroup reports whether s[j:] starts with exactly n digits, the first 2-9.
func nanpGroup(s string, j, n int) bool {
	return j < len(s) && s[j] >= '2' && s[j] <= '9' && digitsAt(s, j) == n
}

// matchEuropean reads a national number with a leading 0.
func matchEuropean(s string, i int) int {
	if s[i] != '0' || i+1 >= len(s) || s[i+1] == '0' {
		return 0
	}
	first := digitsAt(s, i)
	if first < 2 || first > 5 {
		return 0
	}
	j, digits, groups := i+first, first, 1
	var sep byte
	for j+1 < len(s) {
		c := s[j]
		if (c != ' ' && c != '-' && c != '.' && c != '/') || (sep != 0 && c != sep) {
			break
		}
		n := digitsAt(s, j+1)
		if n < 2 {
			break
		}
		sep, digits, groups, j = c, digits+n, groups+1, j+1+n
	}
	if groups < 2 || digits < 9 || digits > 12 || !phoneEndOK(s, j) {
		return 0
	}
	return j
}
