package protocol_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// hdr builds a header from name, value pairs.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

var jsonCT = []string{"Content-Type", "application/json"}

func parseReq(t *testing.T, method, target string, h http.Header, body string, hints protocol.Hints) *protocol.Body {
	t.Helper()
	b, err := protocol.Parser{}.ParseRequest(protocol.Request{Method: method, Target: target, Header: h, Body: []byte(body)}, hints)
	if err != nil {
		t.Fatalf("ParseRequest: %v", err)
	}
	return b
}

func parseResp(t *testing.T, req *protocol.Body, h http.Header, body string, hints protocol.Hints) *protocol.Body {
	t.Helper()
	b, err := protocol.Parser{}.ParseResponse(req, protocol.Response{Status: 200, Header: h, Body: []byte(body)}, hints)
	if err != nil {
		t.Fatalf("ParseResponse: %v", err)
	}
	return b
}

func parseStream(t *testing.T, req *protocol.Body, stream string, hints protocol.Hints) ([]*protocol.Body, []protocol.Message) {
	t.Helper()
	bodies, sum, err := protocol.Parser{}.ParseStream(req, hdr("Content-Type", "text/event-stream"), strings.NewReader(stream), hints)
	if err != nil {
		t.Fatalf("ParseStream: %v", err)
	}
	return bodies, sum
}

// brief renders a message as "kind/channel name text" for compact assertions.
type brief struct {
	Kind    protocol.Kind
	Channel protocol.Channel
	Name    string
	Text    string
}

func briefs(ms []protocol.Message) []brief {
	var out []brief
	for _, m := range ms {
		out = append(out, brief{m.Kind, m.Channel, m.Name, m.Text})
	}
	return out
}

func wantBriefs(t *testing.T, got []protocol.Message, want ...brief) {
	t.Helper()
	g := briefs(got)
	if len(g) != len(want) {
		t.Fatalf("got %d messages, want %d:\n got  %+v\n want %+v", len(g), len(want), g, want)
	}
	for i := range want {
		if g[i] != want[i] {
			t.Errorf("message %d:\n got  %+v\n want %+v", i, g[i], want[i])
		}
	}
}

func mustPath(t *testing.T, s string) protocol.Path {
	t.Helper()
	p, err := protocol.ParsePath(s)
	if err != nil {
		t.Fatalf("ParsePath(%q): %v", s, err)
	}
	return p
}
