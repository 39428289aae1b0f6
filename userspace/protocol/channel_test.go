package protocol_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

func TestEveryRuleIsReachableAndYieldsItsChannel(t *testing.T) {
	type c struct {
		m      protocol.Message
		h      protocol.Hints
		target string
	}
	req, resp := protocol.DirRequest, protocol.DirResponse
	cases := map[string]c{
		"to-log":           {m: protocol.Message{Kind: protocol.KindBody, Direction: req}, h: protocol.Hints{Server: protocol.DestLog}},
		"log-path":         {m: protocol.Message{Kind: protocol.KindBody, Direction: req}, target: "/v1/logs"},
		"log-record":       {m: protocol.Message{Kind: protocol.KindLogRecord, Direction: resp}},
		"to-memory":        {m: protocol.Message{Kind: protocol.KindBody, Direction: req}, h: protocol.Hints{Server: protocol.DestMemory}},
		"memory-tool":      {m: protocol.Message{Kind: protocol.KindToolCall, Direction: req, Name: "save_memory"}},
		"to-artifact":      {m: protocol.Message{Kind: protocol.KindBody, Direction: req}, h: protocol.Hints{Server: protocol.DestArtifact}},
		"reasoning":        {m: protocol.Message{Kind: protocol.KindReasoning, Direction: resp}},
		"artifact":         {m: protocol.Message{Kind: protocol.KindArtifact, Direction: resp}},
		"tool-call":        {m: protocol.Message{Kind: protocol.KindToolCall, Direction: req, Name: "get_weather"}},
		"tool-result":      {m: protocol.Message{Kind: protocol.KindToolResult, Direction: resp}},
		"tool-control-out": {m: protocol.Message{Kind: protocol.KindToolControl, Direction: req}},
		"tool-control-in":  {m: protocol.Message{Kind: protocol.KindToolControl, Direction: resp}},
		"to-user":          {m: protocol.Message{Kind: protocol.KindCompletion, Direction: resp, Role: "assistant"}, h: protocol.Hints{Client: protocol.DestUser}},
		"agent":            {m: protocol.Message{Kind: protocol.KindAgentMessage, Direction: req}},
		"model":            {m: protocol.Message{Kind: protocol.KindPrompt, Direction: req}},
		"to-tool":          {m: protocol.Message{Kind: protocol.KindBody, Direction: req}, h: protocol.Hints{Server: protocol.DestTool}},
		"from-tool":        {m: protocol.Message{Kind: protocol.KindBody, Direction: resp}, h: protocol.Hints{Server: protocol.DestTool}},
		"default":          {m: protocol.Message{Kind: protocol.KindBody, Direction: req}},
	}
	for _, r := range protocol.ChannelRules() {
		tc, ok := cases[r.ID]
		if !ok {
			t.Errorf("rule %s has no test case", r.ID)
			continue
		}
		ch, id := protocol.Label(&tc.m, tc.h, tc.target)
		if id != r.ID || ch != r.Channel {
			t.Errorf("rule %s: labelled %s by %s, want %s", r.ID, ch, id, r.Channel)
		}
		delete(cases, r.ID)
	}
	for id := range cases {
		t.Errorf("test case for a rule that does not exist: %s", id)
	}
}

func TestDestinationHintsOverrideWhatTheBodyLooksLike(t *testing.T) {
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_nodes","arguments":{"query":"jane"}}}`
	b := parseReq(t, "POST", "/mcp", hdr(jsonCT...), body, protocol.Hints{Server: protocol.DestMemory})
	if m := b.Messages[0]; m.Channel != protocol.ChannelMemoryWrite || m.Rule != "to-memory" {
		t.Errorf("call to a memory server: %s by %s", m.Channel, m.Rule)
	}
	b = parseReq(t, "POST", "/mcp", hdr(jsonCT...), body, protocol.Hints{Server: protocol.DestLog})
	if m := b.Messages[0]; m.Channel != protocol.ChannelLog {
		t.Errorf("call to a log sink: %s", m.Channel)
	}
	b = parseReq(t, "POST", "/mcp", hdr(jsonCT...), `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"kb.upsert","arguments":{}}}`,
		protocol.Hints{MemoryTools: []string{"kb.*"}})
	if m := b.Messages[0]; m.Channel != protocol.ChannelMemoryWrite {
		t.Errorf("policy-named memory tool: %s", m.Channel)
	}
}

func TestPlainHTTPBodiesToMemoryLogAndUserDestinations(t *testing.T) {
	// A Redis-backed memory service with a JSON API, named by policy.
	b := parseReq(t, "POST", "/v1/memories", hdr(jsonCT...), `{"user_id":"u1","text":"SSN 939-79-6410"}`, protocol.Hints{Server: protocol.DestMemory})
	wantBriefs(t, b.Messages, brief{protocol.KindBody, protocol.ChannelMemoryWrite, "", ""})
	if b.Protocol != protocol.ProtoJSON || b.ChannelAt(mustPath(t, "/text")) != protocol.ChannelMemoryWrite {
		t.Errorf("%s %s", b.Protocol, b.ChannelAt(mustPath(t, "/text")))
	}
	// Log shipping recognised by path when the policy is silent.
	for _, target := range []string{"/v1/logs", "/api/v2/logs", "/v1/traces", "/loki/api/v1/push", "/services/collector/event", "http://otel:4318/v1/logs?x=1"} {
		b = parseReq(t, "POST", target, hdr(jsonCT...), `{"resourceLogs":[]}`, protocol.Hints{})
		if b.Messages[0].Channel != protocol.ChannelLog {
			t.Errorf("%s: %s", target, b.Messages[0].Channel)
		}
	}
	// ...but not when the policy names the destination as something else.
	b = parseReq(t, "POST", "/v1/logs", hdr(jsonCT...), `{"a":1}`, protocol.Hints{Server: protocol.DestTool})
	if b.Messages[0].Channel != protocol.ChannelToolInput {
		t.Errorf("policy-named tool at /v1/logs: %s", b.Messages[0].Channel)
	}
	// A text body to a user-facing webhook is scanned as text and is final output.
	b = parseReq(t, "POST", "/hooks/reply", hdr("Content-Type", "text/plain; charset=utf-8"), "Your SSN is 939-79-6410", protocol.Hints{Server: protocol.DestUser})
	if b.Protocol != protocol.ProtoHTTP || b.Messages[0].Text != "Your SSN is 939-79-6410" || b.Messages[0].Channel != protocol.ChannelFinalOutput {
		t.Errorf("%s %+v", b.Protocol, b.Messages)
	}
	// Binary bodies carry no text.
	b = parseReq(t, "POST", "/upload", hdr("Content-Type", "application/octet-stream"), "\x00\x01\x02", protocol.Hints{})
	if b.Messages[0].Text != "" {
		t.Errorf("binary body text = %q", b.Messages[0].Text)
	}
}

func TestMemoryToolNames(t *testing.T) {
	for name, want := range map[string]bool{
		"memory": true, "memory_add": true, "add_memory": true, "save_memories": true, "remember": true, "remember_fact": true,
		"kv_store": true, "store_note": true, "mem0.add_memory": true, "createMemory": true, "memory_write": true,
		"memory_search": false, "get_memory": false, "recall_memory": false, "search_memories": false, "memoryList": false,
		"get_weather": false, "store_locator": true, "restore_backup": false, "": false, "storefront_query": false,
	} {
		if got := protocol.IsMemoryTool(name, nil); got != want {
			t.Errorf("IsMemoryTool(%q) = %v, want %v", name, got, want)
		}
	}
	if !protocol.IsMemoryTool("Notes.Upsert", []string{"notes.*"}) || protocol.IsMemoryTool("notes", []string{"notes.*"}) {
		t.Error("extra globs")
	}
}

func TestParseDestination(t *testing.T) {
	for in, want := range map[string]protocol.Destination{"memory": protocol.DestMemory, "LOG": protocol.DestLog,
		"user_facing": protocol.DestUser, "user-facing": protocol.DestUser, "": protocol.DestUnknown, "artifact": protocol.DestArtifact} {
		if got, err := protocol.ParseDestination(in); err != nil || got != want {
			t.Errorf("ParseDestination(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := protocol.ParseDestination("database"); err == nil {
		t.Error("unknown destination accepted")
	}
}

// CHANNELS.md is the prose copy of the rule table: the README links it and the audit work relies
// on it, so it must list every rule, in order, with its channel.
func TestChannelsMarkdownMatchesTheRuleTable(t *testing.T) {
	md, err := os.ReadFile("CHANNELS.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	inRules := false
	for _, line := range strings.Split(string(md), "\n") {
		if strings.HasPrefix(line, "| rule |") {
			inRules = true
		}
		if inRules && strings.HasPrefix(line, "| `") {
			cells := strings.Split(line, "|")
			rows = append(rows, strings.Trim(strings.TrimSpace(cells[1]), "`")+" "+strings.Trim(strings.TrimSpace(cells[2]), "`"))
		}
	}
	var want []string
	for _, r := range protocol.ChannelRules() {
		want = append(want, r.ID+" "+string(r.Channel))
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("CHANNELS.md rule rows:\n%s\nthe table in channel.go:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
}

func TestBadRequestBodiesFailWithTheRightError(t *testing.T) {
	p := protocol.Parser{Limits: protocol.Limits{MaxBodyBytes: 64}}
	_, err := p.ParseRequest(protocol.Request{Method: "POST", Target: "/mcp", Header: hdr(jsonCT...), Body: []byte(`{"jsonrpc":"2.0",`)}, protocol.Hints{})
	if !errors.Is(err, protocol.ErrMalformed) {
		t.Errorf("truncated JSON: %v", err)
	}
	_, err = p.ParseRequest(protocol.Request{Method: "POST", Target: "/mcp", Header: hdr(jsonCT...), Body: []byte(`[]`)}, protocol.Hints{Protocol: protocol.ProtoMCP})
	if !errors.Is(err, protocol.ErrInvalidRequest) {
		t.Errorf("empty batch: %v", err)
	}
	_, err = p.ParseRequest(protocol.Request{Method: "POST", Target: "/x", Header: hdr(jsonCT...), Body: []byte(`"` + strings.Repeat("x", 100) + `"`)}, protocol.Hints{})
	if !errors.Is(err, protocol.ErrTooLarge) {
		t.Errorf("big body: %v", err)
	}
	// A body that looks like JSON but does not claim to be, and is not, is plain bytes.
	b, err := p.ParseRequest(protocol.Request{Method: "POST", Target: "/x", Header: hdr(), Body: []byte(`{not json`)}, protocol.Hints{})
	if err != nil || b.Protocol != protocol.ProtoHTTP {
		t.Errorf("non-JSON without content type: %v %v", b, err)
	}
	if _, err := protocol.ReadBody(strings.NewReader(strings.Repeat("x", 10)), 5); !errors.Is(err, protocol.ErrTooLarge) {
		t.Errorf("ReadBody over limit: %v", err)
	}
	// An event stream is not a whole body.
	if _, err := (protocol.Parser{}).ParseResponse(nil, protocol.Response{Status: 200, Header: hdr("Content-Type", "text/event-stream")}, protocol.Hints{}); err == nil {
		t.Error("event stream accepted as a whole body")
	}
}

func TestForcedProtocolHintWins(t *testing.T) {
	// A JSON-RPC body with a method neither protocol knows: the policy says it is A2A.
	b := parseReq(t, "POST", "/rpc", hdr(jsonCT...), `{"jsonrpc":"2.0","id":1,"method":"custom/op","params":{"x":1}}`, protocol.Hints{Protocol: protocol.ProtoA2A})
	if b.Protocol != protocol.ProtoA2A || b.Messages[0].Channel != protocol.ChannelInterAgent {
		t.Errorf("%s %+v", b.Protocol, b.Messages)
	}
	b = parseReq(t, "POST", "/rpc", hdr(jsonCT...), `{"jsonrpc":"2.0","id":1,"method":"custom/op","params":{"x":1}}`, protocol.Hints{})
	if b.Protocol != protocol.ProtoJSONRPC || b.Messages[0].Kind != protocol.KindBody {
		t.Errorf("%s %+v", b.Protocol, b.Messages)
	}
}
