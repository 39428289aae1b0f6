package scrub

import (
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

// TestCoarseIMFDateIsCoarseDate: the shortcut for dates in http.TimeFormat gives what parsing
// and formatting give, and leaves every other spelling (wrong weekday, impossible day, other
// formats) to them.
func TestCoarseIMFDateIsCoarseDate(t *testing.T) {
	slow := func(v string) (string, bool) {
		t, err := http.ParseTime(v)
		if err != nil {
			return "", false
		}
		return t.UTC().Truncate(time.Minute).Format(http.TimeFormat), true
	}
	r := rand.New(rand.NewPCG(3, 4))
	inputs := []string{"Mon, 02 Jan 2006 15:04:05 GMT", "Tue, 02 Jan 2006 15:04:05 GMT", "Thu, 30 Feb 2026 10:00:00 GMT",
		"Wed, 25 Nov 2026 23:59:59 GMT", "Wed, 25 Nov 2026 24:00:00 GMT", "Wed, 25 Nov 2026 23:60:00 GMT",
		"Wed, 25 Nov 2026 23:00:60 GMT", "Wed, 25 Nov 2026 23:00:00 UTC", "Wed, 25 Nov 2026 23:00:00 GMX",
		"Wednesday, 25-Nov-26 23:00:00 GMT", "Wed Nov 25 23:00:00 2026", "Wed, 25 nov 2026 23:00:00 GMT",
		"Sat, 01 Jan 0000 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "Wed, 5 Nov 2026 23:00:00 GMT ", "",
		// February 29th of leap and common years: those that do not exist have the weekday of
		// March 1st, which time.Date would make of them.
		"Tue, 29 Feb 2000 12:00:01 GMT", "Thu, 29 Feb 2024 12:00:01 GMT", "Thu, 29 Feb 1900 12:00:01 GMT",
		"Mon, 29 Feb 2100 12:00:01 GMT", "Wed, 29 Feb 2023 12:00:01 GMT", "Tue, 29 Feb 1600 12:00:01 GMT",
		"Fri, 31 Apr 2026 12:00:01 GMT", "Wed, 31 Jun 2026 12:00:01 GMT", "Thu, 31 Sep 2026 12:00:01 GMT", "Tue, 31 Nov 2026 12:00:01 GMT"}
	for range 20000 {
		d := time.Unix(r.Int64N(400*365*86400)-200*365*86400, 0).UTC()
		s := d.Format(http.TimeFormat)
		if r.IntN(4) == 0 { // break one byte
			b := []byte(s)
			b[r.IntN(len(b))] = "0123456789 :,AGMTabcxyz"[r.IntN(23)]
			s = string(b)
		}
		inputs = append(inputs, s)
	}
	for _, in := range inputs {
		want, wantOK := slow(in)
		got, gotOK := coarseDate([]string{in})
		if got != want || gotOK != wantOK {
			t.Fatalf("%q: got %q %v, want %q %v", in, got, gotOK, want, wantOK)
		}
	}
}
