package classify

// maxGroups is how many digit groups one run holds; a longer run is cut into runs of this size.
const maxGroups = 16

// group is one unbroken sequence of digits: its offset and length.
type group struct{ off, n int }

// run is a sequence of digit groups joined by one separator character used throughout
// (a space or a hyphen), as card numbers and SSNs are written: 4111 1111 1111 1111,
// 123-45-6789, 4111111111111111.
type run struct {
	groups [maxGroups]group
	count  int
	sep    byte // 0 when the run is one group
	// startOK and endOK say whether the run starts and ends at number boundaries
	// (numberStartOK, numberEndOK); endOK is false when the run was cut at maxGroups.
	startOK, endOK bool
}

// bounded reports whether the whole run stands alone.
func (r *run) bounded() bool { return r.startOK && r.endOK }

func (r *run) start() int { return r.groups[0].off }
func (r *run) end() int   { g := r.groups[r.count-1]; return g.off + g.n }

// digits returns the number of digits in groups [a, b).
func (r *run) digits(a, b int) int {
	n := 0
	for _, g := range r.groups[a:b] {
		n += g.n
	}
	return n
}

// next reads into r the first run at or after s[i]. It returns false when there is none; next
// is where to continue looking. r is overwritten, not cleared: only count groups are valid.
func (r *run) next(s string, i int) (next int, ok bool) {
	i = nextDigit(s, i)
	if i >= len(s) {
		return len(s), false
	}
	startOK := numberStartOK(s, i)
	j := skipDigits(s, i)
	r.groups[0] = group{off: i, n: j - i}
	r.count, r.sep = 1, 0
	for j+1 < len(s) && r.count < maxGroups {
		c := s[j]
		if (c != ' ' && c != '-') || (r.sep != 0 && c != r.sep) || !isDigit(s[j+1]) {
			break
		}
		k := skipDigits(s, j+1)
		r.groups[r.count] = group{off: j + 1, n: k - j - 1}
		r.count++
		r.sep = c
		j = k
	}
	cut := r.count == maxGroups && j+1 < len(s) && s[j] == r.sep && isDigit(s[j+1])
	r.startOK, r.endOK = startOK, !cut && numberEndOK(s, j)
	return j, true
}
