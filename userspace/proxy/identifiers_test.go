package proxy

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/protocol"
	"github.com/meshwarden/meshwarden/userspace/scrub"
)

// TestProgressTokenPseudonymEndsWithItsRequest checks that the pseudonym of an MCP progress
// token lives exactly as long as its request: progress notifications during the request are
// mapped back, and the answer (or a refusal) forgets the token's pseudonym with the id's, so a
// client that gives every request a fresh token does not fill its flow's pseudonym table.
func TestProgressTokenPseudonymEndsWithItsRequest(t *testing.T) {
	flow, err := newFlowTable().get("agent", "127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	hide := func(body string) (idSwap, rpcIDs) {
		t.Helper()
		b, err := protocol.Parser{}.ParseRequest(protocol.Request{Method: "POST", Target: "/mcp", Header: http.Header{}, Body: []byte(body)}, protocol.Hints{})
		if err != nil {
			t.Fatal(err)
		}
		swap, err := flow.swapIdentifiers(b, nil)
		if err != nil {
			t.Fatal(err)
		}
		var sent rpcIDs
		d := json.NewDecoder(bytes.NewReader(b.Doc.Bytes()))
		d.UseNumber()
		if err := d.Decode(&sent); err != nil {
			t.Fatal(err)
		}
		return swap, sent
	}
	held := func() int { return flow.pseudo.gen.Load().cur.Len() }

	// Answered: the token's pseudonym is mapped back while the request runs, forgotten after.
	req, sent := hide(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"search","arguments":{},"_meta":{"progressToken":"tok-1"}}}`)
	if sent.Params.Meta.ProgressToken == "tok-1" || sent.Params.Meta.ProgressToken == nil {
		t.Fatalf("the progress token went as %v", sent.Params.Meta.ProgressToken)
	}
	if orig, ok := flow.pseudo.reveal(scrub.KindMCPProgress, sent.Params.Meta.ProgressToken); !ok || orig != "tok-1" {
		t.Fatalf("during the request the token's pseudonym reveals %v, %v", orig, ok)
	}
	answer, err := protocol.Parser{}.ParseResponseWith(nil, flow.calls, protocol.Response{Status: 200,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   []byte(`{"jsonrpc":"2.0","id":` + string(encodeID(sent.ID)) + `,"result":{"content":[]}}`)}, protocol.Hints{})
	if err != nil {
		t.Fatal(err)
	}
	back, err := flow.swapIdentifiers(answer, req.hidden)
	if err != nil {
		t.Fatal(err)
	}
	flow.forgetIDs(back.answered) // as the exchange's end does
	if _, ok := flow.pseudo.reveal(scrub.KindMCPProgress, sent.Params.Meta.ProgressToken); ok {
		t.Fatal("the token's pseudonym outlived its answered request")
	}
	if n := held(); n != 0 {
		t.Fatalf("%d pseudonyms held after the exchange, want 0", n)
	}

	// Refused: the request is never forwarded, and its pseudonyms go at once.
	refused, sent := hide(`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"search","_meta":{"progressToken":9}}}`)
	flow.forgetIDs(refused.hidden)
	if _, ok := flow.pseudo.reveal(scrub.KindMCPProgress, sent.Params.Meta.ProgressToken); ok || held() != 0 {
		t.Fatalf("a refused request left %d pseudonyms", held())
	}
}

// rpcIDs is what a test reads of a JSON-RPC request as it was forwarded.
type rpcIDs struct {
	ID     any `json:"id"`
	Params struct {
		Meta struct {
			ProgressToken any `json:"progressToken"`
		} `json:"_meta"`
	} `json:"params"`
}
