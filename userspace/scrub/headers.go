package scrub

import (
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"time"
)

// GenericUserAgent is what every User-Agent header becomes.
const GenericUserAgent = "meshwarden"

// removedHeaders are the headers Headers removes, in canonical form: the list
// (topology, sender identity, tracing, server software) and a few tracing headers of common
// clouds and tracers beside it (X-Amzn-Trace-Id, X-Cloud-Trace-Context, Sentry-Trace).
func removedHeaders() []string {
	return []string{
		"Forwarded", "X-Real-Ip", "Via", "True-Client-Ip", "X-Client-Ip",
		"Traceparent", "Tracestate", "Baggage", "B3", "Uber-Trace-Id",
		"X-Request-Id", "X-Correlation-Id", "Server", "X-Powered-By",
		"X-Amzn-Trace-Id", "X-Cloud-Trace-Context", "Sentry-Trace",
	}
}

// removedPrefixes are header name prefixes Headers removes: X-Forwarded-* (For, Host, Proto,
// Port, Client-Cert, ...), B3 (X-B3-*), OpenAI SDKs' X-Stainless-* (client OS, runtime,
// versions), and the Jaeger, Datadog and OpenTracing context headers.
func removedPrefixes() []string {
	return []string{"X-Forwarded-", "X-B3-", "X-Stainless-", "Uberctx-", "X-Datadog-", "Ot-Tracer-", "Ot-Baggage-"}
}

// removedFirstBytes marks the bytes a name RemovesHeader is true of may start with: the first
// letters of removedHeaders and removedPrefixes in either case, and every non-ASCII byte (under
// strings.EqualFold the Kelvin sign folds to k and ſ to s). Most names start with another byte,
// and are kept without comparing them with every listed name. Read only.
var removedFirstBytes = func() (t [256]bool) {
	for _, name := range slices.Concat(removedHeaders(), removedPrefixes()) {
		c := name[0]
		t[c] = true
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' {
			t[c^0x20] = true // the other case
		}
	}
	for c := 0x80; c < len(t); c++ {
		t[c] = true
	}
	return t
}()

// RemovesHeader reports whether Headers removes the header with this name (any case).
func RemovesHeader(name string) bool {
	if name == "" || !removedFirstBytes[name[0]] {
		return false
	}
	for _, h := range removedHeaders() {
		if foldsTo(name, h) {
			return true
		}
	}
	for _, p := range removedPrefixes() {
		if len(name) >= len(p) && strings.EqualFold(name[:len(p)], p) {
			return true
		}
	}
	return false
}

// foldsTo is strings.EqualFold(name, canonical) for an ASCII canonical, false without comparing
// for a name too short to be it: equal under case folding means as many runes as canonical has
// bytes, and a rune takes at least one byte (a name may be longer: the Kelvin sign, three bytes,
// folds to k).
func foldsTo(name, canonical string) bool {
	return len(name) >= len(canonical) && strings.EqualFold(name, canonical)
}

// Headers scrubs request or response headers in place: it removes every header RemovesHeader
// names, sets User-Agent to GenericUserAgent, and coarsens Date to the minute (still a valid
// HTTP date; an unparsable Date is removed). Names are matched case-insensitively, so headers
// stored under non-canonical keys are found too. Identifiers a protocol needs
// (Mcp-Session-Id) are left to a Pseudonymizer.
func Headers(h http.Header) Summary {
	var s Summary
	// Keys as stored in h; a header set rarely holds more than two of each, so these stay on
	// the stack.
	var dropKeys, userAgentKeys, dateKeys [2]string
	drop, userAgent, date := dropKeys[:0], userAgentKeys[:0], dateKeys[:0]
	for name := range h {
		switch {
		case RemovesHeader(name):
			drop = append(drop, name)
			s.Removed = append(s.Removed, textproto.CanonicalMIMEHeaderKey(name))
		case foldsTo(name, "User-Agent"):
			userAgent = append(userAgent, name)
		case foldsTo(name, "Date"):
			date = append(date, name)
		}
	}
	for _, name := range drop {
		delete(h, name)
	}
	if replace(h, userAgent, "User-Agent", GenericUserAgent, true) {
		s.Normalised = append(s.Normalised, "User-Agent")
	}
	if len(date) > 0 {
		slices.Sort(date) // the key replace reads: the canonical one when both exist
		v, ok := coarseDate(h[date[0]])
		if !ok {
			s.Removed = append(s.Removed, "Date")
		}
		if replace(h, date, "Date", v, ok) {
			s.Normalised = append(s.Normalised, "Date")
		}
	}
	s.Removed, s.Normalised = sorted(s.Removed), sorted(s.Normalised)
	return s
}

// replace stores v under the canonical name in place of the values found under keys, or only
// removes them when ok is false. It reports whether a value was stored that differs from what
// was there (the first key's values).
func replace(h http.Header, keys []string, canonical string, v string, ok bool) bool {
	if len(keys) == 0 {
		return false
	}
	slices.Sort(keys) // "Date" before "date": prefer the canonical key when both exist
	old := h[keys[0]]
	if ok && len(keys) == 1 && keys[0] == canonical && len(old) == 1 && old[0] == v {
		return false // already as it should be: leave it, saving the new slice
	}
	for _, k := range keys {
		if k != canonical || !ok { // the canonical key is overwritten below
			delete(h, k)
		}
	}
	if !ok {
		return false
	}
	h[canonical] = []string{v}
	return true
}

// coarseDate returns the first Date value truncated to the minute, in the HTTP date format.
func coarseDate(values []string) (string, bool) {
	if len(values) == 0 {
		return "", false
	}
	if v, ok := coarseIMFDate(values[0]); ok {
		return v, true
	}
	t, err := http.ParseTime(values[0])
	if err != nil {
		return "", false
	}
	return t.UTC().Truncate(time.Minute).Format(http.TimeFormat), true
}

// coarseIMFDate is coarseDate of a date in http.TimeFormat ("Mon, 02 Jan 2006 15:04:05 GMT",
// what servers send) with its right weekday, without parsing and formatting it: the seconds
// become 00. ok is false for anything else, left to coarseDate.
func coarseIMFDate(v string) (string, bool) {
	const months = "JanFebMarAprMayJunJulAugSepOctNovDec"
	if len(v) != len(http.TimeFormat) || v[3:5] != ", " || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' ||
		v[19] != ':' || v[22] != ':' || v[25:] != " GMT" {
		return "", false
	}
	num := func(s string) int {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return -1
			}
			n = n*10 + int(s[i]-'0')
		}
		return n
	}
	day, year, hour, minute, sec := num(v[5:7]), num(v[12:16]), num(v[17:19]), num(v[20:22]), num(v[23:25])
	m := -1
	for i := 0; i < len(months); i += 3 {
		if months[i] == v[8] && months[i+1] == v[9] && months[i+2] == v[10] {
			m = i
			break
		}
	}
	if m < 0 || day < 1 || year < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return "", false
	}
	month := time.Month(m/3 + 1)
	if day > daysIn(month, year) || v[:3] != time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Weekday().String()[:3] {
		return "", false
	}
	if v[23:25] == "00" {
		return v, true
	}
	return v[:23] + "00 GMT", true
}

// daysIn returns the number of days of a month of year in the proleptic Gregorian calendar
// (package time's).
func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}
