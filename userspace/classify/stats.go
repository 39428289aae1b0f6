package classify

// textStats is what one pass over a text learns about it, enough to skip the detectors that
// cannot match: most strings in agent traffic hold too few digits for any number detector.
type textStats struct {
	digits int  // ASCII digits
	upper  int  // ASCII capitals
	at     bool // holds an @
}

func statsOf(s string) textStats {
	var st textStats
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c-'0' <= 9:
			st.digits++
		case c-'A' <= 'Z'-'A':
			st.upper++
		case c == '@':
			st.at = true
		}
	}
	return st
}

// prefiltered is implemented by detectors that can tell from a text's stats that they will
// find nothing in it.
type prefiltered interface {
	mayMatch(st textStats) bool
}

func (ssn) mayMatch(st textStats) bool         { return st.digits >= 9 }
func (paymentCard) mayMatch(st textStats) bool { return st.digits >= 13 }
func (phone) mayMatch(st textStats) bool       { return st.digits >= 8 }
func (iban) mayMatch(st textStats) bool        { return st.digits >= 2 && st.upper >= 2 }
func (email) mayMatch(st textStats) bool       { return st.at }
