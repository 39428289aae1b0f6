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
	// dense3 and dense4 are the most digits in 3 and in 4 consecutive 8-byte words of the
	// text (from its start; the bytes after the last whole word count as one more word): any
	// 11 bytes of the text lie within 3 such words, any 23 bytes within 4.
	dense3, dense4 int
}

// statNeeds says which of a text's stats some detector looks at.
type statNeeds uint8

const (
	needDigits  statNeeds = 1 << iota // digits, dense3, dense4
	needLetters                       // upper, at
)

// prefilter is what a detector's matches need of a text's stats: decided once per detector
// (filterOf), so that the per-string check is a switch on a small integer.
type prefilter uint8

const (
	filterNone prefilter = iota // a detector the stats say nothing about: always run
	filterSSN
	filterCard
	filterPhone
	filterIBAN
	filterEmail
)

// filterOf returns the prefilter of a detector.
func filterOf(d Detector) prefilter {
	switch d.(type) {
	case ssn:
		return filterSSN
	case paymentCard:
		return filterCard
	case phone:
		return filterPhone
	case iban:
		return filterIBAN
	case email:
		return filterEmail
	}
	return filterNone
}

// needs returns the stats the prefilter looks at.
func (f prefilter) needs() statNeeds {
	switch f {
	case filterSSN, filterCard, filterPhone:
		return needDigits
	case filterIBAN:
		return needDigits | needLetters
	case filterEmail:
		return needLetters
	}
	return 0
}

// mayMatch reports whether the detector can find anything in a text with the stats st.
//
// An SSN is 9 digits in 11 bytes (AAA-GG-SSSS); a card number 13 to 19 digits in at most 23
// bytes (up to five groups, one separator between groups).
func (f prefilter) mayMatch(st *textStats) bool {
	switch f {
	case filterSSN:
		return st.dense3 >= 9
	case filterCard:
		return st.dense4 >= 13
	case filterPhone:
		return st.digits >= 8
	case filterIBAN:
		return st.digits >= 2 && st.upper >= 2
	case filterEmail:
		return st.at
	}
	return true
}

// detectorSet is a list of detectors with their prefilters, made once (a Classifier's).
type detectorSet struct {
	detectors []Detector
	filters   []prefilter
	need      statNeeds
}

func newDetectorSet(detectors []Detector) detectorSet {
	ds := detectorSet{detectors: detectors, filters: make([]prefilter, len(detectors))}
	for i, d := range detectors {
		ds.filters[i] = filterOf(d)
		ds.need |= ds.filters[i].needs()
	}
	return ds
}

// statsOf returns the stats of s that need asks for (the others are left zero: mayMatch does
// not look at them for the detectors need was made for).
func statsOf(s string, need statNeeds) textStats {
	var st textStats
	if need == 0 {
		return st
	}
	letters := need&needLetters != 0
	var w1, w2, w3 int // digits of the three words before this one
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		d := bits.OnesCount64(inRange(x, '0', '9'))
		st.digits += d
		st.dense3 = max(st.dense3, d+w1+w2)
		st.dense4 = max(st.dense4, d+w1+w2+w3)
		w3, w2, w1 = w2, w1, d
		if letters {
			st.upper += bits.OnesCount64(inRange(x, 'A', 'Z'))
			st.at = st.at || inRange(x, '@', '@') != 0
		}
	}
	d := 0
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c-'0' <= 9:
			d++
		case c-'A' <= 'Z'-'A':
			st.upper++
		case c == '@':
			st.at = true
		}
	}
	st.digits += d
	st.dense3 = max(st.dense3, d+w1+w2)
	st.dense4 = max(st.dense4, d+w1+w2+w3)
	return st
}

// nextDigit returns the index of the first ASCII digit at or after s[i], len(s) when there is
// none: eight bytes at a time.
func nextDigit(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		if m := inRange(binary.LittleEndian.Uint64([]byte(s[i:i+8])), '0', '9'); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(s) && !isDigit(s[i]) {
		i++
	}
	return i
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
