package credential

import (
	"errors"
	"strconv"
	"time"
)

// numericDate is a JWT NumericDate (RFC 7519 §2): seconds since the epoch. It is written with
// millisecond precision (a fraction when needed, which the RFC allows), because credential
// lifetimes in tests are seconds and a whole-second exp would cut up to a second off them.
type numericDate struct{ time.Time }

// maxNumericDate bounds accepted dates (year 5138), far below time's limits.
const maxNumericDate = 1e11

var errNumericDate = errors.New("NumericDate: want a non-negative decimal number of seconds")

func (d numericDate) MarshalJSON() ([]byte, error) {
	ms := d.UnixMilli()
	if ms < 0 {
		return nil, errNumericDate
	}
	b := strconv.AppendInt(nil, ms/1000, 10)
	if r := ms % 1000; r != 0 {
		b = append(b, '.', byte('0'+r/100), byte('0'+r/10%10), byte('0'+r%10))
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
	}
	return b, nil
}

// UnmarshalJSON accepts digits with an optional fraction of up to 9 digits: no sign, no
// exponent, so one instant has few spellings and nothing overflows.
func (d *numericDate) UnmarshalJSON(b []byte) error {
	intPart, frac := b, []byte(nil)
	for i, c := range b {
		if c == '.' {
			intPart, frac = b[:i], b[i+1:]
			break
		}
	}
	if len(intPart) == 0 || len(intPart) > 11 || (frac != nil && (len(frac) == 0 || len(frac) > 9)) {
		return errNumericDate
	}
	var sec, nsec int64
	for _, c := range intPart {
		if c < '0' || c > '9' {
			return errNumericDate
		}
		sec = sec*10 + int64(c-'0')
	}
	if sec >= maxNumericDate {
		return errNumericDate
	}
	scale := int64(1e8)
	for _, c := range frac {
		if c < '0' || c > '9' {
			return errNumericDate
		}
		nsec += int64(c-'0') * scale
		scale /= 10
	}
	d.Time = time.Unix(sec, nsec)
	return nil
}
