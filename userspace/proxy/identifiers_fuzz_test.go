package proxy

import (
	"encoding/json"
	"math/big"
	"net/http"
	"reflect"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// FuzzIdentifierSwapIsItsOwnInverse checks the pseudonym swap on any JSON-RPC or A2A body: the
// first swap hides every identifier (none is a pseudonym yet), the second reveals each one again,
// so the body comes back as it was, and no original id survives the first swap.
func FuzzIdentifierSwapIsItsOwnInverse(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":"req-1","method":"message/send","params":{"message":{"role":"user","messageId":"m-1","contextId":"c-1","taskId":"t-1","parts":[{"kind":"text","text":"hi"}]}}}`,
		`[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":1.5,"method":"tools/list"},{"jsonrpc":"2.0","method":"notifications/x"}]`,
		`{"jsonrpc":"2.0","id":"5b1d0f3e-9c1a-4a7e-8f1e-2a3b4c5d6e7f","method":"tasks/get","params":{"id":"task-9"}}`,
		`{"jsonrpc":"2.0","id":null,"method":"tasks/get","params":{"id":""}}`,
	} {
		f.Add([]byte(s))
	}
	flows := newFlowTable()
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := protocol.Parser{}.ParseRequest(protocol.Request{Method: "POST", Target: "/", Header: http.Header{}, Body: body}, protocol.Hints{})
		if err != nil || b.Doc == nil {
			return
		}
		flow, err := flows.get("fuzz", "127.0.0.1:1")
		if err != nil {
			t.Fatal(err)
		}
		orig := toAny(b.Doc.Root())
		first, err := flow.swapIdentifiers(b, nil)
		if err != nil {
			return // a collision or a full table: the exchange would be refused
		}
		doc := newLazyTree(b.Doc.Root(), first.swapped).get()
		if sent := reparse(t, b.Doc.Bytes()); !reflect.DeepEqual(doc, toAny(sent.Doc.Root())) {
			t.Fatalf("the decoded body and the document disagree:\n%v\n%s", doc, b.Doc.Bytes())
		}
		for _, id := range b.Identifiers {
			if _, ok := identifierKind(id.Kind); !ok {
				continue
			}
			was, _, _ := anyAt(orig, id.Path)
			now, _, _ := anyAt(doc, id.Path)
			if was != nil && was != "" && reflect.DeepEqual(was, now) {
				t.Fatalf("%s at %s kept its value %v", id.Kind, id.Path, was)
			}
		}
		b2 := reparse(t, b.Doc.Bytes())
		second, err := flow.swapIdentifiers(b2, first.hidden)
		if err != nil {
			t.Fatal(err)
		}
		back := newLazyTree(b2.Doc.Root(), second.swapped).get()
		// Numbers come back as the same number, not always in the same spelling: ids that are one
		// number (1 and 1.0, say) share a pseudonym, and an answer to it is given the first.
		want := sameNumbers(orig)
		if !reflect.DeepEqual(want, sameNumbers(back)) || !reflect.DeepEqual(want, sameNumbers(toAny(reparse(t, b2.Doc.Bytes()).Doc.Root()))) {
			a, _ := json.Marshal(orig)
			z, _ := json.Marshal(back)
			t.Fatalf("swapped twice:\n got %s\nwant %s", z, a)
		}
	})
}

// sameNumbers returns v with every number in one spelling (an exact fraction), so that JSON
// values compare as numbers.
func sameNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = sameNumbers(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = sameNumbers(e)
		}
		return out
	case json.Number:
		if r, ok := new(big.Rat).SetString(string(x)); ok {
			return "number " + r.RatString()
		}
	}
	return v
}

// reparse parses a body the swap wrote, as the receiver would.
func reparse(t *testing.T, body []byte) *protocol.Body {
	t.Helper()
	b, err := protocol.Parser{}.ParseRequest(protocol.Request{Method: "POST", Target: "/", Header: http.Header{}, Body: body}, protocol.Hints{})
	if err != nil || b.Doc == nil {
		t.Fatalf("the swapped body does not parse: %v\n%s", err, body)
	}
	return b
}
