package scrub

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestHeadersRemovesEveryListedHeader(t *testing.T) {
	listed := []string{
		"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Forwarded-Client-Cert",
		"Forwarded", "X-Real-IP", "Via", "True-Client-IP", "X-Client-IP",
		"traceparent", "tracestate", "baggage", "b3", "X-B3-TraceId", "X-B3-SpanId", "X-B3-ParentSpanId", "X-B3-Sampled", "X-B3-Flags",
		"uber-trace-id", "X-Request-Id", "X-Correlation-Id", "Server", "X-Powered-By",
		"X-Stainless-OS", "X-Stainless-Lang", "X-Stainless-Package-Version", "X-Stainless-Runtime-Version",
	}
	kept := map[string]string{
		"Content-Type": "application/json", "Authorization": "Bearer t", "Mcp-Session-Id": "s1",
		"Mcp-Protocol-Version": "2025-06-18", "Accept": "text/event-stream", "X-Custom": "1",
	}
	h := http.Header{}
	for _, name := range listed {
		h.Set(name, "value-of-"+name)
	}
	for k, v := range kept {
		h.Set(k, v)
	}
	s := Headers(h)
	for _, name := range listed {
		if h.Get(name) != "" {
			t.Errorf("%s survived", name)
		}
	}
	for k, v := range kept {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
	if len(h) != len(kept) {
		t.Errorf("headers left: %v", h)
	}
	if len(s.Removed) != len(listed) || !slices.IsSorted(s.Removed) {
		t.Errorf("Removed = %v", s.Removed)
	}
	for _, name := range s.Removed {
		if name != http.CanonicalHeaderKey(name) {
			t.Errorf("summary name %q is not canonical", name)
		}
	}
	assertNoValues(t, s)
}

func TestHeadersFindsNonCanonicalKeys(t *testing.T) {
	h := http.Header{"x-forwarded-for": {"10.0.0.1"}, "TRACEPARENT": {"00-x"}, "user-agent": {"python-httpx/0.27"}, "date": {"Tue, 15 Nov 1994 08:12:31 GMT"}}
	s := Headers(h)
	want := http.Header{"User-Agent": {GenericUserAgent}, "Date": {"Tue, 15 Nov 1994 08:12:00 GMT"}}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("headers = %v, want %v", h, want)
	}
	if !reflect.DeepEqual(s.Removed, []string{"Traceparent", "X-Forwarded-For"}) || !reflect.DeepEqual(s.Normalised, []string{"Date", "User-Agent"}) {
		t.Errorf("summary = %+v", s)
	}
}

func TestUserAgentIsNormalisedAndDateCoarsenedToTheMinute(t *testing.T) {
	h := http.Header{}
	h.Set("User-Agent", "OpenAI/Python 1.40.0")
	h.Set("Date", "Sun, 06 Nov 1994 08:49:37 GMT")
	s := Headers(h)
	if got := h.Get("User-Agent"); got != GenericUserAgent {
		t.Errorf("User-Agent = %q", got)
	}
	if got := h.Get("Date"); got != "Sun, 06 Nov 1994 08:49:00 GMT" {
		t.Errorf("Date = %q", got)
	}
	if _, err := http.ParseTime(h.Get("Date")); err != nil {
		t.Errorf("coarsened Date is not an HTTP date: %v", err)
	}
	if !reflect.DeepEqual(s.Normalised, []string{"Date", "User-Agent"}) || len(s.Removed) != 0 {
		t.Errorf("summary = %+v", s)
	}
	// Other accepted date formats come out in the preferred one.
	h.Set("Date", "Sunday, 06-Nov-94 08:49:37 GMT")
	Headers(h)
	if got := h.Get("Date"); got != "Sun, 06 Nov 1994 08:49:00 GMT" {
		t.Errorf("RFC 850 Date = %q", got)
	}
	// Scrubbing again changes nothing.
	if s := Headers(h); !s.Empty() {
		t.Errorf("second scrub = %+v", s)
	}
}

func TestUnparsableDateIsRemoved(t *testing.T) {
	h := http.Header{"Date": {"yesterday"}}
	s := Headers(h)
	if _, ok := h["Date"]; ok || !reflect.DeepEqual(s.Removed, []string{"Date"}) {
		t.Errorf("headers %v summary %+v", h, s)
	}
}

// assertNoValues checks that no summary entry is a header or key value used by the tests.
func assertNoValues(t *testing.T, s Summary) {
	t.Helper()
	for _, list := range [][]string{s.Removed, s.Normalised, s.Pseudonymised, s.Revealed} {
		for _, name := range list {
			for _, bad := range []string{"value-of-", "10.0.0.", "secret", "00-x", "python"} {
				if strings.Contains(name, bad) {
					t.Errorf("summary holds a value: %q", name)
				}
			}
		}
	}
}

// TestRemovesHeaderIsEqualFoldOfTheLists: RemovesHeader's shortcuts (first byte, length) decide
// as comparing the name with every listed name and prefix under strings.EqualFold does, for
// names in any case, names spelt with the non-ASCII runes that fold to ASCII letters (the
// Kelvin sign, the long s), and names that only look like listed ones.
func TestRemovesHeaderIsEqualFoldOfTheLists(t *testing.T) {
	slow := func(name string) bool {
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
	names := []string{"", "User-Agent", "Date", "Host", "Content-Type", "Mcp-Session-Id", "X-Custom", "Uber", "\u212a", "\xff"}
	for _, listed := range slices.Concat(removedHeaders(), removedPrefixes()) {
		for _, n := range []string{listed, strings.ToLower(listed), strings.ToUpper(listed), listed + "x", listed[1:], listed[:len(listed)-1]} {
			names = append(names, n, strings.ReplaceAll(n, "k", "\u212a"), strings.ReplaceAll(n, "s", "\u017f"),
				strings.ReplaceAll(strings.ToUpper(n), "S", "\u017f"), strings.ReplaceAll(strings.ToLower(n), "t", "\u0165"))
		}
	}
	for _, n := range names {
		if got, want := RemovesHeader(n), slow(n); got != want {
			t.Errorf("RemovesHeader(%q) = %v, want %v", n, got, want)
		}
	}
	// Names spelt with non-ASCII runes are still normalised.
	h := http.Header{"u\u017fer-agent": {"x"}, "Traceſtate": {"y"}}
	if s := Headers(h); !reflect.DeepEqual(h, http.Header{"User-Agent": {GenericUserAgent}}) || len(s.Removed) != 1 {
		t.Errorf("headers = %v, summary %+v", h, s)
	}
}
