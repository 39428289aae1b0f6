package protocol_test

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

func TestCallsMatchIDsAsTheirPeersEchoThem(t *testing.T) {
	calls := protocol.NewCalls(0)
	b := parseReq(t, "POST", "/messages?sessionId=1", hdr(jsonCT...),
		`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}},{"jsonrpc":"2.0","id":"\u0078","method":"prompts/get","params":{"name":"p"}}]`, protocol.Hints{})
	calls.Record(b)
	for id, want := range map[string]string{`1`: "tools/call", `1.0`: "tools/call", `1e0`: "tools/call", `"x"`: "prompts/get"} {
		c, ok := calls.LookupCall(json.RawMessage(id))
		if !ok || c.Method != want || c.Protocol != protocol.ProtoMCP {
			t.Errorf("id %s: %+v %v", id, c, ok)
		}
		if c2, ok := b.LookupCall(json.RawMessage(id)); !ok || c2 != c {
			t.Errorf("body lookup of %s: %+v", id, c2)
		}
	}
	if _, ok := calls.LookupCall(json.RawMessage(`"1"`)); ok {
		t.Error("string id \"1\" matched number id 1")
	}
	calls.Forget(json.RawMessage(`1`))
	if _, ok := calls.LookupCall(json.RawMessage(`1`)); ok {
		t.Error("forgotten call still found")
	}
}

func TestCallsForgetTheOldestBeyondTheirSize(t *testing.T) {
	calls := protocol.NewCalls(3)
	for i := range 10 {
		calls.Record(parseReq(t, "POST", "/mcp", hdr(jsonCT...), `{"jsonrpc":"2.0","id":`+strconv.Itoa(i)+`,"method":"tools/list"}`, protocol.Hints{}))
	}
	for i := range 10 {
		_, ok := calls.LookupCall(json.RawMessage(strconv.Itoa(i)))
		if ok != (i >= 7) {
			t.Errorf("id %d remembered: %v", i, ok)
		}
	}
}

func TestMessageWalkReachesAssembledArguments(t *testing.T) {
	stream := chunk(`{"tool_calls":[{"index":0,"id":"c","function":{"name":"send","arguments":"{\"to\":"}}]}`) +
		chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"\"a@b.c\"}"}}]}`)
	_, sum := parseStream(t, nil, stream, protocol.Hints{})
	var seen []string
	_ = sum[0].Walk(func(n protocol.Node) error {
		if n.Value.Type() == protocol.TypeString {
			seen = append(seen, n.Key+"="+n.Value.Str())
		}
		return nil
	})
	if len(seen) != 1 || seen[0] != "to=a@b.c" {
		t.Errorf("walked %v", seen)
	}
}
