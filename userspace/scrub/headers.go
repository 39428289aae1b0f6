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

// RemovesHeader reports whether Headers removes the header with this name (any case).
func RemovesHeader(name string) bool {
	for _, h := range removedHeaders() {
		if strings.EqualFold(name, h) {
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

// Headers scrubs request or response headers in place: it removes every header RemovesHeader
// names, sets User-Agent to GenericUserAgent, and coarsens Date to the minute (still a valid
// HTTP date; an unparsable Date is removed). Names are matched case-insensitively, so headers
// stored under non-canonical keys are found too. Identifiers a protocol needs
// (Mcp-Session-Id) are left to a Pseudonymizer.
func Headers(h http.Header) Summary {
	var s Summary
	var drop, userAgent, date []string // keys as stored in h
	for name := range h {
		switch {
		case RemovesHeader(name):
			drop = append(drop, name)
			s.Removed = append(s.Removed, textproto.CanonicalMIMEHeaderKey(name))
		case strings.EqualFold(name, "User-Agent"):
			userAgent = append(userAgent, name)
		case strings.EqualFold(name, "Date"):
			date = append(date, name)
		}
	}
	for _, name := range drop {
		delete(h, name)
	}
	if replace(h, userAgent, "User-Agent", func([]string) (string, bool) { return GenericUserAgent, true }) {
		s.Normalised = append(s.Normalised, "User-Agent")
	}
	if len(date) > 0 {
		if _, ok := coarseDate(h[date[0]]); !ok {
			s.Removed = append(s.Removed, "Date")
		}
		if replace(h, date, "Date", coarseDate) {
			s.Normalised = append(s.Normalised, "Date")
		}
	}
	s.Removed, s.Normalised = sorted(s.Removed), sorted(s.Normalised)
	return s
}

// replace stores under the canonical name the one value derive makes from the values found
// under keys (the first key's), removing the header when derive fails. It reports whether a
// value was stored that differs from what was there.
func replace(h http.Header, keys []string, canonical string, derive func([]string) (string, bool)) bool {
	if len(keys) == 0 {
		return false
	}
	slices.Sort(keys) // "Date" before "date": prefer the canonical key when both exist
	old := h[keys[0]]
	for _, k := range keys {
		delete(h, k)
	}
	v, ok := derive(old)
	if !ok {
		return false
	}
	h[canonical] = []string{v}
	return len(keys) > 1 || keys[0] != canonical || len(old) != 1 || old[0] != v
}

// coarseDate returns the first Date value truncated to the minute, in the HTTP date format.
func coarseDate(values []string) (string, bool) {
	if len(values) == 0 {
		return "", false
	}
	t, err := http.ParseTime(values[0])
	if err != nil {
		return "", false
	}
	return t.UTC().Truncate(time.Minute).Format(http.TimeFormat), true
}
