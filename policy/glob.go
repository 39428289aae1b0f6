package policy

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// globReserved are characters other glob dialects give a meaning; a pattern holding one is
// refused, so that a pattern never means less than it seems to.
const globReserved = `[]{}\`

// MatchGlob reports whether name matches the glob pattern of match.mcp_tools: `*` matches any
// run of characters (none included, `/` included), `?` matches exactly one character, and
// every other character matches itself, case-sensitively. The whole name must match.
func MatchGlob(pattern, name string) bool {
	p, s := 0, 0
	starP, starS := -1, 0
	for s < len(name) {
		if p < len(pattern) {
			switch c := pattern[p]; {
			case c == '*':
				starP, starS = p, s
				p++
				continue
			case c == '?':
				_, size := utf8.DecodeRuneInString(name[s:])
				p++
				s += size
				continue
			case c == name[s]:
				p++
				s++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		_, size := utf8.DecodeRuneInString(name[starS:])
		starS += size
		p, s = starP+1, starS
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// checkGlob returns why pattern is not a valid match.mcp_tools glob, or nil.
func checkGlob(pattern string) error {
	if pattern == "" {
		return fmt.Errorf("bad glob: must not be empty")
	}
	if i := strings.IndexFunc(pattern, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }); i >= 0 {
		return fmt.Errorf("bad glob %q: tool names hold no spaces or control characters", pattern)
	}
	if i := strings.IndexAny(pattern, globReserved); i >= 0 {
		return fmt.Errorf("bad glob %q: %q is reserved; only * and ? are wildcards", pattern, pattern[i])
	}
	return nil
}

// globCovers reports whether every name b matches is provably matched by a. It is exact for
// equal patterns, for a made of stars only, for b without wildcards, and for a of the form
// literal* against b whose literal start begins with that literal; otherwise it says false.
func globCovers(a, b string) bool {
	switch {
	case a == b:
		return true
	case strings.Trim(a, "*") == "":
		return true
	case !strings.ContainsAny(b, "*?"):
		return MatchGlob(a, b)
	}
	lit, ok := strings.CutSuffix(a, "*")
	if !ok || strings.ContainsAny(lit, "*?") {
		return false
	}
	bLit := b[:strings.IndexAny(b, "*?")]
	return strings.HasPrefix(bLit, lit)
}
