package protocol_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/ and run as ordinary tests in `go test`;
// `go test -fuzz=FuzzX` explores further.

var fuzzLimits = protocol.Limits{MaxBodyBytes: 1 << 20, MaxValues: 1 << 14, MaxStreamText: 1 << 20}

// checkBody asserts the invariants every parsed body keeps: each message has a channel and a rule,
// its Path leads to its Value, every value of the document has a channel, and an unedited body
// re-serialises to its source.
func checkBody(t *testing.T, b *protocol.Body) {
	t.Helper()
	if b == nil {
		return
	}
	valid := map[protocol.Channel]bool{}
	for _, c := range protocol.Channels() {
		valid[c] = true
	}
	if !valid[b.Default] {
		t.Fatalf("body default channel %q", b.Default)
	}
	for _, m := range b.Messages {
		if !valid[m.Channel] || m.Rule == "" {
			t.Fatalf("message without a valid label: %+v", m)
		}
		if !m.Value.Exists() {
			continue
		}
		v, err := b.Doc.At(m.Path)
		if err != nil || !bytes.Equal(v.Raw(), m.Value.Raw()) {
			t.Fatalf("message path %s does not lead to its value: %v", m.Path, err)
		}
	}
	if b.Doc == nil {
		return
	}
	err := b.Doc.Walk(func(n protocol.Node) error {
		if !valid[b.ChannelAt(n.Path)] {
			t.Fatalf("no channel at %s", n.Path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), b.Doc.Source()) {
		t.Fatal("unedited body re-serialised differently")
	}
}

func FuzzJSON(f *testing.F) {
	f.Add([]byte(toolCallBody), uint16(3), true)
	f.Fuzz(func(t *testing.T, in []byte, pick uint16, del bool) {
		lim := protocol.Limits{AllowDuplicateKeys: true, MaxDepth: 10000, MaxValues: 1 << 20}
		doc, err := protocol.ParseJSON(in, lim)
		if (err == nil) != json.Valid(in) {
			t.Fatalf("ParseJSON err %v, json.Valid %v", err, json.Valid(in))
		}
		if err != nil {
			if !errors.Is(err, protocol.ErrMalformed) && !errors.Is(err, protocol.ErrTooLarge) {
				t.Fatalf("error matches neither ErrMalformed nor ErrTooLarge: %v", err)
			}
			return
		}
		// With duplicate keys a path names the last of them, so walked values are looked up
		// again only in documents without.
		_, dupErr := protocol.ParseJSON(in, protocol.Limits{MaxDepth: 10000, MaxValues: 1 << 20})
		// Any decodes as encoding/json decodes with UseNumber.
		if dupErr == nil {
			var want any
			d := json.NewDecoder(bytes.NewReader(in))
			d.UseNumber()
			if err := d.Decode(&want); err != nil || !reflect.DeepEqual(doc.Root().Any(), want) {
				t.Fatalf("Any: %#v, encoding/json: %#v (%v)", doc.Root().Any(), want, err)
			}
		}
		// Strings decode as encoding/json decodes them.
		var nodes []protocol.Node
		_ = doc.Walk(func(n protocol.Node) error {
			nodes = append(nodes, n)
			if n.Value.Type() == protocol.TypeString {
				var want string
				if err := json.Unmarshal(n.Value.Raw(), &want); err != nil || want != n.Value.Str() {
					t.Fatalf("string %q decoded as %q, encoding/json: %q", n.Value.Raw(), n.Value.Str(), want)
				}
			}
			if got, err := doc.At(n.Path); dupErr == nil && (err != nil || !bytes.Equal(got.Raw(), n.Value.Raw())) {
				t.Fatalf("At(%s) does not find the walked value: %v", n.Path, err)
			}
			return nil
		})
		// Any edit leaves valid JSON.
		n := nodes[int(pick)%len(nodes)]
		if del && len(n.Path) > 0 {
			if err := n.Value.Delete(); err != nil {
				t.Fatal(err)
			}
		} else if err := n.Value.SetString("[redacted:\"x\"]\n"); err != nil {
			t.Fatal(err)
		}
		if out := doc.Bytes(); !json.Valid(out) {
			t.Fatalf("edited document is not JSON: %q", out)
		}
	})
}

func FuzzJSONRPC(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := protocol.ParseJSONRPC(body, fuzzLimits)
		if err != nil {
			if !errors.Is(err, protocol.ErrMalformed) && !errors.Is(err, protocol.ErrInvalidRequest) && !errors.Is(err, protocol.ErrTooLarge) {
				t.Fatalf("unclassified error: %v", err)
			}
			if !json.Valid(protocol.RPCErrorFor(nil, err)) {
				t.Fatal("error response is not JSON")
			}
			return
		}
		for _, m := range b.Messages {
			if (m.Type == protocol.RPCInvalid) && m.Invalid == nil {
				t.Fatal("invalid message without a reason")
			}
			resp := protocol.RefusalResponse(m.ID, "fuzz", "detail \x00 \"")
			var env struct {
				ID json.RawMessage `json:"id"`
			}
			if err := json.Unmarshal(resp, &env); err != nil {
				t.Fatalf("refusal is not JSON: %v: %s", err, resp)
			}
			if m.ID != nil && string(env.ID) != string(m.ID) {
				t.Fatalf("refusal id %s, request id %s", env.ID, m.ID)
			}
		}
		if r := protocol.RefusalBatchResponse(b, "fuzz", ""); r != nil && !json.Valid(r) {
			t.Fatalf("batch refusal is not JSON: %s", r)
		}
	})
}

func FuzzSSE(f *testing.F) {
	f.Fuzz(func(t *testing.T, stream []byte, oneByte bool) {
		lim := protocol.Limits{MaxLineBytes: 1 << 16, MaxEventBytes: 1 << 17}
		var r io.Reader = bytes.NewReader(stream)
		if oneByte {
			r = iotest.OneByteReader(r)
		}
		whole, errWhole := readEvents(bytes.NewReader(stream), lim)
		got, err := readEvents(r, lim)
		if (err == nil) != (errWhole == nil) || len(got) != len(whole) {
			t.Fatalf("chunked read differs: %d events (%v) vs %d (%v)", len(got), err, len(whole), errWhole)
		}
		var buf bytes.Buffer
		w := protocol.NewSSEWriter(&buf)
		for i, ev := range got {
			if ev.Type != whole[i].Type || ev.Data != whole[i].Data || ev.ID != whole[i].ID || ev.Retry != whole[i].Retry {
				t.Fatalf("event %d differs when read in chunks", i)
			}
			if err := w.WriteEvent(ev); err != nil {
				t.Fatalf("re-encoding a parsed event: %v", err)
			}
		}
		back, err := readEvents(&buf, protocol.Limits{})
		if err != nil || len(back) != len(got) {
			t.Fatalf("re-encoded stream: %d events, %v; want %d", len(back), err, len(got))
		}
		for i := range back {
			a, b := back[i], got[i]
			if a.Type != b.Type || a.Data != b.Data || a.HasData != b.HasData || a.ID != b.ID || a.HasID != b.HasID || a.Retry != b.Retry || len(a.Comments) != len(b.Comments) {
				t.Fatalf("event %d changed through the writer:\n%+v\n%+v", i, a, b)
			}
		}
		// Relaying raw bytes reproduces the stream (less a BOM and LFs that ended a CR line in the next read).
		var raw bytes.Buffer
		for _, ev := range whole {
			raw.Write(ev.Raw)
		}
		relayed, err := readEvents(&raw, protocol.Limits{})
		if err != nil || len(relayed) != len(whole) {
			t.Fatalf("relayed stream: %d events, %v; want %d", len(relayed), err, len(whole))
		}
	})
}

func readEvents(r io.Reader, lim protocol.Limits) ([]protocol.Event, error) {
	sr := protocol.NewSSEReader(r, lim)
	var evs []protocol.Event
	for {
		ev, err := sr.Next()
		if errors.Is(err, io.EOF) {
			return evs, nil
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return evs, nil // an incomplete last event is dropped, as clients drop it
		}
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
}

func FuzzMCP(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, version, method, name string) {
		p := protocol.Parser{Limits: fuzzLimits}
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set("Mcp-Protocol-Version", version)
		if method != "" {
			h.Set("Mcp-Method", method)
		}
		if name != "" {
			h.Set("Mcp-Name", name)
		}
		req, err := p.ParseRequest(protocol.Request{Method: "POST", Target: "/mcp", Header: h, Body: body}, protocol.Hints{Protocol: protocol.ProtoMCP})
		if err != nil {
			return
		}
		checkBody(t, req)
		_ = protocol.CheckMCPHeaders(h, req)
		if err := protocol.RewriteMCPHeaders(h, body, fuzzLimits); err == nil {
			if err := protocol.CheckMCPHeaders(h, req); err != nil && (len(h.Values("Mcp-Method")) > 0 || len(h.Values("Mcp-Name")) > 0) {
				t.Fatalf("headers rewritten from the body still mismatch: %v (%v)", err, h)
			}
		}
		resp, err := p.ParseResponse(req, protocol.Response{Status: 200, Header: h, Body: body}, protocol.Hints{})
		if err == nil {
			checkBody(t, resp)
		}
		fuzzStream(t, p, req, body)
	})
}

func FuzzA2A(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		p := protocol.Parser{Limits: fuzzLimits}
		for _, h := range []protocol.Hints{{Protocol: protocol.ProtoA2A}, {Client: protocol.DestUser}} {
			req, err := p.ParseRequest(protocol.Request{Method: "POST", Target: path, Header: hdr(jsonCT...), Body: body}, h)
			if err != nil {
				continue
			}
			checkBody(t, req)
			resp, err := p.ParseResponse(req, protocol.Response{Status: 200, Header: hdr(jsonCT...), Body: body}, h)
			if err == nil {
				checkBody(t, resp)
			}
			fuzzStream(t, p, req, body)
		}
		card, _ := p.ParseRequest(protocol.Request{Method: "GET", Target: "/.well-known/agent-card.json", Header: hdr()}, protocol.Hints{})
		if resp, err := p.ParseResponse(card, protocol.Response{Status: 200, Header: hdr(jsonCT...), Body: body}, protocol.Hints{}); err == nil {
			checkBody(t, resp)
		}
	})
}

func FuzzOpenAI(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, responses bool) {
		p := protocol.Parser{Limits: fuzzLimits}
		path, proto := "/v1/chat/completions", protocol.ProtoOpenAIChat
		if responses {
			path, proto = "/v1/responses", protocol.ProtoOpenAIResponses
		}
		req, err := p.ParseRequest(protocol.Request{Method: "POST", Target: path, Header: hdr(jsonCT...), Body: body}, protocol.Hints{Protocol: proto})
		if err == nil {
			checkBody(t, req)
			if resp, err := p.ParseResponse(req, protocol.Response{Status: 200, Header: hdr(jsonCT...), Body: body}, protocol.Hints{}); err == nil {
				checkBody(t, resp)
			}
		}
		fuzzStream(t, p, req, body)
		// The streaming <think> splitter agrees with the whole-text one however the text is cut
		// (up to whitespace, which SplitThink trims and uses to join blocks), unless the text
		// opens with a lone closing tag: a stream cannot take back the fragments it already
		// labelled as answer.
		text := strings.ToValidUTF8(string(body), "")
		if loneCloseFirst(text) {
			return
		}
		r, a := protocol.SplitThink(text)
		for _, cut := range []int{len(text) / 3, len(text) / 2, len(text) - 1} {
			if cut <= 0 || cut >= len(text) || !utf8.ValidString(text[:cut]) {
				continue
			}
			stream := chunk(`{"content":`+quoteJSON(text[:cut])+`}`) + chunk(`{"content":`+quoteJSON(text[cut:])+`}`) +
				`data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n"
			bodies, _, err := protocol.Parser{}.ParseStream(nil, hdr(), strings.NewReader(stream), protocol.Hints{})
			if err != nil {
				t.Fatal(err)
			}
			var gr, ga strings.Builder
			for _, b := range bodies {
				for _, m := range b.Messages {
					if m.Kind == protocol.KindReasoning {
						gr.WriteString(m.Text)
					} else {
						ga.WriteString(m.Text)
					}
				}
			}
			if noSpace(gr.String()) != noSpace(r) || noSpace(ga.String()) != noSpace(a) {
				t.Fatalf("cut at %d: streamed reasoning %q answer %q; whole: %q %q", cut, gr.String(), ga.String(), r, a)
			}
		}
	})
}

func loneCloseFirst(s string) bool {
	first := func(subs ...string) int {
		at := -1
		for _, sub := range subs {
			if i := strings.Index(s, sub); i >= 0 && (at < 0 || i < at) {
				at = i
			}
		}
		return at
	}
	o, c := first("<think>", "<thinking>"), first("</think>", "</thinking>")
	return c >= 0 && (o < 0 || c < o)
}

func noSpace(s string) string { return strings.Join(strings.Fields(s), "") }

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// fuzzStream feeds body as an event stream (and as the data of one event) to a stream parser.
func fuzzStream(t *testing.T, p protocol.Parser, req *protocol.Body, body []byte) {
	t.Helper()
	for _, stream := range [][]byte{body, append(append([]byte("data: "), bytes.ReplaceAll(body, []byte("\n"), []byte(" "))...), "\n\n"...)} {
		sp := p.NewStreamParser(req, hdr(), protocol.Hints{})
		sr := protocol.NewSSEReader(bytes.NewReader(stream), p.Limits)
		for {
			ev, err := sr.Next()
			if err != nil {
				break
			}
			b, err := sp.Parse(ev)
			if err != nil {
				continue
			}
			checkBody(t, b)
		}
		for _, m := range sp.Summary() {
			if m.Channel == "" {
				t.Fatalf("summary message without a channel: %+v", m)
			}
		}
	}
}
