package classify

import "github.com/meshwarden/meshwarden/policy"

// paymentCard finds payment card numbers: 13 to 19 digits starting with 2 to 6 (the major
// networks' ranges), written without separators or in the printed groupings (4-4-4-4 with a
// short last group for 13 and 17-19 digits, 4-6-5 and 4-6-4), with one separator used
// throughout (space or hyphen), that pass the Luhn check. A longer plain number is not
// searched for cards inside it.
type paymentCard struct{}

func (paymentCard) Type() string { return policy.DetectorPaymentCard }

func (paymentCard) Find(s string, out []Span) []Span {
	var r run
	for i := 0; i < len(s); {
		next, ok := r.next(s, i)
		if !ok {
			break
		}
		i = next
		out = findCardsInRun(s, &r, out)
	}
	return out
}

// findCardsInRun reports the cards in a run: a single group of 13-19 digits, or consecutive
// groups in a card grouping. Each digit belongs to at most one card. A card may share a
// space-separated run with other groups (qty 1 4111 1111 1111 1111 12/27), but not a
// hyphenated one, and where it touches the run's start or end that must be a number boundary.
func findCardsInRun(s string, r *run, out []Span) []Span {
	for a := 0; a < r.count; {
		b := cardEnd(s, r, a)
		if b < 0 {
			a++
			continue
		}
		start, end := r.groups[a].off, r.groups[b-1].off+r.groups[b-1].n
		out = append(out, Span{Type: policy.DetectorPaymentCard, Offset: start, Length: end - start})
		a = b
	}
	return out
}

// cardEnd returns b such that groups [a, b) hold a card number, trying the longest first, or
// -1 when no card starts at group a.
func cardEnd(s string, r *run, a int) int {
	if c := s[r.groups[a].off]; c < '2' || c > '6' {
		return -1
	}
	if a > 0 && r.sep != ' ' || a == 0 && !r.startOK {
		return -1
	}
	for b := min(r.count, a+5); b > a; b-- {
		if b < r.count && r.sep != ' ' || b == r.count && !r.endOK || !cardGrouping(r, a, b) {
			continue
		}
		if luhn(s, r.groups[a:b]) {
			return b
		}
	}
	return -1
}

// cardGrouping reports whether groups [a, b) are grouped as card numbers are printed.
func cardGrouping(r *run, a, b int) bool {
	n := r.digits(a, b)
	if n < 13 || n > 19 {
		return false
	}
	g := r.groups[a:b]
	switch len(g) {
	case 1:
		return true
	case 3:
		if g[0].n == 4 && g[1].n == 6 && (g[2].n == 5 || g[2].n == 4) {
			return true
		}
	}
	for _, x := range g[:len(g)-1] {
		if x.n != 4 {
			return false
		}
	}
	return g[len(g)-1].n <= 4
}

// luhn reports whether the digits of groups pass the Luhn check.
func luhn(s string, groups []group) bool {
	sum, double := 0, false
	for gi := len(groups) - 1; gi >= 0; gi-- {
		g := groups[gi]
		for k := g.off + g.n - 1; k >= g.off; k-- {
			d := int(s[k] - '0')
			if double {
				d *= 2
				if d > 9 {
					d -= 9
				}
			}
			sum += d
			double = !double
		}
	}
	return sum%10 == 0
}
