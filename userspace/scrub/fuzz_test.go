package scrub

import (
	"bufio"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// FuzzScrubHeaders parses arbitrary header blocks as the enforcer's HTTP reader does and
// checks that Headers never panics, leaves no header it removes, leaves a valid Date or none,
// summarises only header names, and changes nothing when run again.
func FuzzScrubHeaders(f *testing.F) {
	for _, s := range []string{
		"X-Forwarded-For: 10.0.0.1\r\nUser-Agent: curl/8\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
		"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nX-B3-Sampled: 1\r\nb3: 1\r\n\r\n",
		"X-Stainless-Os: Linux\r\nServer: nginx\r\nDate: garbage\r\nMcp-Session-Id: abc\r\n\r\n",
		"date: Sunday, 06-Nov-94 08:49:37 GMT\r\nDate: Sun Nov  6 08:49:37 1994\r\n\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, block string) {
		mh, err := textproto.NewReader(bufio.NewReader(strings.NewReader(block))).ReadMIMEHeader()
		if err != nil && len(mh) == 0 {
			return
		}
		h := http.Header{}
		names := map[string]bool{}
		for k, v := range mh {
			h[k] = v
			names[textproto.CanonicalMIMEHeaderKey(k)] = true
			// The same header under a raw key too, as a parser that does not canonicalise keeps it.
			if len(h) < 64 {
				h[strings.ToLower(k)] = append([]string(nil), v...)
				names[textproto.CanonicalMIMEHeaderKey(strings.ToLower(k))] = true
			}
		}
		s := Headers(h)
		for name := range h {
			if RemovesHeader(name) {
				t.Fatalf("%s survived", name)
			}
		}
		if vs, ok := h["Date"]; ok {
			if len(vs) != 1 {
				t.Fatalf("Date = %q", vs)
			}
			if _, err := http.ParseTime(vs[0]); err != nil {
				t.Fatalf("Date %q is not an HTTP date", vs[0])
			}
		}
		if ua, ok := h["User-Agent"]; ok && (len(ua) != 1 || ua[0] != GenericUserAgent) {
			t.Fatalf("User-Agent = %q", ua)
		}
		for _, list := range [][]string{s.Removed, s.Normalised} {
			for _, name := range list {
				if name != textproto.CanonicalMIMEHeaderKey(name) {
					t.Fatalf("summary entry %q is not a canonical header name", name)
				}
				if !names[name] {
					t.Fatalf("summary entry %q names no header of the input", name)
				}
			}
		}
		if again := Headers(h); !again.Empty() {
			t.Fatalf("second scrub changed %+v", again)
		}
	})
}
