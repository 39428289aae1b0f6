package classify

import (
	"strings"

	"github.com/meshwarden/meshwarden/policy"
)

// email finds e-mail addresses: a local part of letters, digits and . _ % + - (at most 64,
// not starting or ending with a dot), @, and a domain of at least two labels whose last is 2
// to 63 letters. user@localhost and name@1.2.3 are not reported.
type email struct{}

func (email) Type() string { return policy.DetectorEmail }

func (email) Find(s string, out []Span) []Span {
	searched, lastEnd := 0, 0
	for {
		k := strings.IndexByte(s[searched:], '@')
		if k < 0 {
			return out
		}
		at := searched + k
		searched = at + 1
		start := localStart(s, lastEnd, at)
		if start < 0 {
			continue
		}
		end := domainEnd(s, at+1)
		if end < 0 {
			continue
		}
		out = append(out, Span{Type: policy.DetectorEmail, Offset: start, Length: end - start})
		searched, lastEnd = end, end
	}
}

func isLocalChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

// localStart returns where the local part before the @ at s[at] starts, not before lo (the
// end of the previous address), or -1.
func localStart(s string, lo, at int) int {
	i := at
	for i > lo && at-i < 64 && isLocalChar(s[i-1]) {
		i--
	}
	for i < at && s[i] == '.' {
		i++
	}
	if i == at || s[at-1] == '.' || (i > 0 && isWord(s[i-1])) {
		return -1
	}
	return i
}

// domainEnd returns the end of the domain starting at s[i], or -1 when there is none.
func domainEnd(s string, i int) int {
	j := i
	for j < len(s) && (isAlnum(s[j]) || s[j] == '.' || s[j] == '-') {
		j++
	}
	if j < len(s) && isWord(s[j]) {
		return -1
	}
	for j > i && (s[j-1] == '.' || s[j-1] == '-') {
		j--
	}
	d := s[i:j]
	dot := strings.LastIndexByte(d, '.')
	if dot <= 0 {
		return -1
	}
	tld := d[dot+1:]
	if len(tld) < 2 || len(tld) > 63 {
		return -1
	}
	for k := 0; k < len(tld); k++ {
		if !isAlpha(tld[k]) {
			return -1
		}
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' || len(label) > 63 {
			return -1
		}
	}
	return j
}
