package scrub

import (
	"net/http"
	"testing"
)

// BenchmarkHeaders measures Headers over the header sets of one MCP exchange as the enforcer
// sees them: a Go client's tools/call request (its User-Agent normalised, nothing removed) and
// the server's response (its Date coarsened). The values Headers replaces are put back before
// each call, so every call does the same work.
func BenchmarkHeaders(b *testing.B) {
	for _, c := range []struct {
		name string
		h    http.Header
	}{
		{"request", http.Header{
			"Host":            {"tools.internal:8080"},
			"User-Agent":      {"Go-http-client/1.1"},
			"Content-Type":    {"application/json"},
			"Content-Length":  {"1024"},
			"Accept-Encoding": {"gzip"},
			"Mcp-Session-Id":  {"mw-5n2xkq7c4zj3w6y1t0rbv8hdfa"},
		}},
		{"response", http.Header{
			"Content-Type":   {"application/json"},
			"Date":           {"Wed, 25 Nov 2026 03:25:17 GMT"},
			"Content-Length": {"1024"},
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			h := c.h.Clone()
			ua, date := c.h["User-Agent"], c.h["Date"]
			b.ReportAllocs()
			for b.Loop() {
				if ua != nil {
					h["User-Agent"] = ua
				}
				if date != nil {
					h["Date"] = date
				}
				if s := Headers(h); len(s.Normalised) != 1 {
					b.Fatalf("summary %+v", s)
				}
			}
		})
	}
}
