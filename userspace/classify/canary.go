package classify

import (
	"cmp"
	"slices"
	"strings"

	"github.com/meshwarden/meshwarden/policy"
)

// canary finds canary tokens: each literal wherever it appears, and each prefix with the
// letters, digits, _ and - that follow it. Both are case-sensitive.
type canary struct {
	literals, prefixes []string
}

func (canary) Type() string { return policy.DetectorCanary }

func (c canary) Find(s string, out []Span) []Span {
	base := len(out)
	for _, lit := range c.literals {
		for from := 0; ; {
			k := strings.Index(s[from:], lit)
			if k < 0 {
				break
			}
			out = append(out, Span{Type: policy.DetectorCanary, Offset: from + k, Length: len(lit)})
			from += k + len(lit)
		}
	}
	for _, p := range c.prefixes {
		for from := 0; ; {
			k := strings.Index(s[from:], p)
			if k < 0 {
				break
			}
			start := from + k
			end := start + len(p)
			for end < len(s) && (isAlnum(s[end]) || s[end] == '_' || s[end] == '-') {
				end++
			}
			out = append(out, Span{Type: policy.DetectorCanary, Offset: start, Length: end - start})
			from = end
		}
	}
	if found := out[base:]; len(found) > 1 {
		// Several tokens: put them in order and join those that overlap.
		slices.SortFunc(found, func(a, b Span) int {
			return cmp.Or(cmp.Compare(a.Offset, b.Offset), cmp.Compare(b.Length, a.Length))
		})
		out = append(out[:base], mergeSpans(found, func(Span) bool { return true })...)
	}
	return out
}
