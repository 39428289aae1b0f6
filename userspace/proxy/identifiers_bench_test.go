package proxy

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// BenchmarkSwapIdentifiersExchange is the identifier work of one MCP tools/call exchange: its
// request's id hidden (and its call remembered), the pseudonym revealed in the body that echoes
// it, then forgotten with its call. Parsing is not timed.
func BenchmarkSwapIdentifiersExchange(b *testing.B) {
	parse := func(body []byte) *protocol.Body {
		pb, err := protocol.Parser{}.ParseRequest(protocol.Request{Method: "POST", Target: "/", Header: http.Header{}, Body: body}, protocol.Hints{})
		if err != nil || pb.Doc == nil {
			b.Fatalf("parse %s: %v", body, err)
		}
		return pb
	}
	flow, err := newFlowTable().get("agent", "127.0.0.1:1")
	if err != nil {
		b.Fatal(err)
	}
	reqs := make([]*protocol.Body, b.N)
	for i := range reqs {
		reqs[i] = parse([]byte(`{"jsonrpc":"2.0","id":` + strconv.Itoa(i+1) + `,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		first, err := flow.swapIdentifiers(reqs[i], nil)
		if err != nil || len(first.hidden) != 1 {
			b.Fatalf("hide: %v, %d hidden", err, len(first.hidden))
		}
		b.StopTimer()
		echo := parse(reqs[i].Doc.Bytes())
		b.StartTimer()
		second, err := flow.swapIdentifiers(echo, first.hidden)
		if err != nil || len(second.answered) != 1 {
			b.Fatalf("reveal: %v, %d answered", err, len(second.answered))
		}
		flow.forgetIDs(second.answered)
	}
}
