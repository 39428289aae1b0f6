package classify

import (
	"encoding/binary"
	"math/bits"
)

// textStats is what one pass over a text learns about it, enough to skip the detectors that
// cannot match: most strings in agent traffic hold too few digits for any number detector.
type textStats struct {
	digits int  // ASCII digits
	upper  int  // ASCII capitals
	at     bool // holds an @
}

func statsOf(s string) textStats {
	var st textStats
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		st.digits += bits.OnesCount64(inRange(x, '0', '9'))
		st.upper += bits.OnesCount64(inRange(x, 'A', 'Z'))
		st.at = st.at || inRange(x, '@', '@') != 0
	}
	for ; i < len(s); i++ {
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

// inRange returns the high bit of each byte of x that lies in [lo, hi] (both below 0x80), all
// other bits clear: eight comparisons in a few word operations.
func inRange(x uint64, lo, hi byte) uint64 {
	const low7, high = 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	y := x & low7                                       // no carries between bytes below
	above := y + (0x7f-uint64(hi))*0x0101010101010101   // high bit set: byte > hi
	atLeast := y + (0x80-uint64(lo))*0x0101010101010101 // high bit set: byte >= lo
	return atLeast &^ above &^ x & high                 // &^ x: bytes of 0x80 and more are in no range
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
