package test

// End-to-end tests with the official MCP Go SDK (github.com/modelcontextprotocol/go-sdk) at both
// ends: the server runs in the test process outside every agent cgroup, the client
// (test/agents/mcpgo) inside an agent's cgroup, so every connection it opens is redirected to
// the enforcer.

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/audit"
	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// mcpToolText returns the text of the first content item of an MCP CallToolResult.
func mcpToolText(t *testing.T, result json.RawMessage) string {
	t.Helper()
	var r struct {
		Content []struct{ Type, Text string }
		IsError bool `json:"isError"`
	}
	if err := json.Unmarshal(result, &r); err != nil || len(r.Content) == 0 || r.IsError {
		t.Fatalf("not a successful tool result with content: %s", result)
	}
	return r.Content[0].Text
}

func TestMCPGoSDKSessionCallsArriveScrubbedRedactedWithPseudonymsAndStreamEventByEvent(t *testing.T) {
	m := newGoSDKWorld(t)
	srv := startMCPGoServer(t, "127.0.0.2", false)
	echoArgs := `{"text":"hello mesh","n":42,"nested":{"list":[1,2,3],"flag":true}}`
	r := runAgent(t, m, "orchestrator", goAgent(t, "mcpgo"), append(append([]string{"--url", "http://" + srv.Addr + "/mcp", "--protocol", "2025-11-25"}, scrubbedHeaderArgs()...),
		`{"op":"list"}`,
		`{"op":"call","name":"echo","arguments":`+echoArgs+`,"meta":`+mustJSONText(goMeta("kept-meta"))+`}`,
		`{"op":"call","name":"count","arguments":{"n":3,"delay_ms":400},"progress":true}`,
		`{"op":"call","name":"lookup_customer","arguments":{"customer_id":"c-42","note":"my ssn is `+goSSN+`","api_key":"sk-live-go-1"}}`)...)

	// Allowed calls work, unchanged in meaning.
	conn := r.last("connected")
	if conn == nil || conn.Protocol != "2025-11-25" {
		t.Fatalf("the MCP client did not connect: %+v\n%s", conn, clip(r.Out))
	}
	var tools struct{ Tools []struct{ Name string } }
	_ = json.Unmarshal(r.result(t, "list", "").Result, &tools)
	if len(tools.Tools) != 3 {
		t.Errorf("tools/list through the enforcer: %+v", tools)
	}
	var echoed, want any
	_ = json.Unmarshal([]byte(mcpToolText(t, r.result(t, "call", "echo").Result)), &echoed)
	_ = json.Unmarshal([]byte(echoArgs), &want)
	if mustJSONText(echoed) != mustJSONText(want) {
		t.Errorf("echo returned %v, want %s", echoed, echoArgs)
	}
	count := r.result(t, "call", "count")
	if got := mcpToolText(t, count.Result); got != "counted 3" {
		t.Errorf("count returned %q", got)
	}
	// The call's SSE response passes event by event: each progress notification reaches the
	// SDK when the server sends it, 400 ms apart, not with the result.
	progress := r.all("progress")
	if len(progress) != 3 {
		t.Errorf("progress notifications: got %d, want 3: %s", len(progress), rawOf(progress))
	} else if gap := progress[1].T - progress[0].T; gap < 250 {
		t.Errorf("progress 1 and 2 arrived %d ms apart, sent 400 ms apart: the stream was buffered", gap)
	} else if gap := count.T - progress[0].T; gap < 800 {
		t.Errorf("the first progress arrived %d ms before the result, sent 1200 ms before: the stream was buffered", gap)
	}
	// The SSN is redacted both ways: in the tool's arguments and in its result.
	lookup := mcpToolText(t, r.result(t, "call", "lookup_customer").Result)
	if lookup != "customer c-42: ssn [redacted:ssn], plan gold" {
		t.Errorf("lookup_customer result at the client: %q", lookup)
	}

	// What the server saw: headers scrubbed, _meta cleaned, clientInfo reduced, arguments
	// redacted, no client ids, its own session id back.
	checkHeadersScrubbed(t, srv.http.all())
	calls := srv.called()
	if len(calls) != 3 {
		t.Fatalf("the server ran %d tool calls, want 3", len(calls))
	}
	for _, k := range goRemovedMetaKeys {
		if _, ok := calls[0].Meta[k]; ok {
			t.Errorf("_meta key %s reached the server: %v", k, calls[0].Meta)
		}
	}
	if calls[0].Meta["keep"] != "kept-meta" {
		t.Errorf("_meta lost the application's key: %v", calls[0].Meta)
	}
	if a := calls[2].Args; a["note"] != "my ssn is [redacted:ssn]" || a["api_key"] != "[redacted:field:api_key]" || a["customer_id"] != "c-42" {
		t.Errorf("lookup_customer arguments at the server: %v", a)
	}
	var sent, seen, got []string
	for _, e := range r.all("wire") {
		switch e.Dir {
		case "send":
			sent = append(sent, jsonrpcIDs(e.Message, false)...)
		case "recv":
			got = append(got, jsonrpcIDs(e.Message, true)...)
		}
	}
	for _, q := range srv.http.all() {
		seen = append(seen, jsonrpcIDs(q.Body, false)...)
		var init struct {
			Method string
			Params struct{ ClientInfo map[string]any }
		}
		if json.Unmarshal(q.Body, &init) == nil && init.Method == "initialize" && (init.Params.ClientInfo["version"] != "0" || init.Params.ClientInfo["title"] != nil) {
			t.Errorf("initialize reached the server with clientInfo %v", init.Params.ClientInfo)
		}
	}
	if len(sent) < 4 || len(seen) < 4 {
		t.Fatalf("JSON-RPC ids: the client sent %v, the server saw %v", sent, seen)
	}
	for _, id := range seen {
		if slices.Contains(sent, id) {
			t.Errorf("the server received the client's own id %s (client %v, server %v)", id, sent, seen)
		}
	}
	for _, id := range got {
		if !slices.Contains(sent, id) {
			t.Errorf("the client received an answer under id %s, which it never sent", id)
		}
	}
	sid := calls[0].Session
	if sid == "" || conn.SessionID == "" || conn.SessionID == sid || strings.Contains(r.Out, sid) {
		t.Errorf("session ids: the client holds %q, the server made %q: the client must hold a pseudonym only", conn.SessionID, sid)
	}
	for _, c := range calls {
		if c.Session != sid {
			t.Errorf("a call reached the server in session %q, not its own %q", c.Session, sid)
		}
	}

	// The audit log labels the calls tool_input and their results tool_output, names what was
	// scrubbed and found, and holds none of the values.
	waitRecords(t, m, r.PID, map[string]func(audit.Record) bool{
		"tools/call echo as tool_input": func(a audit.Record) bool {
			return a.Kind == audit.KindMessage && a.RPCMethod == "tools/call" && a.Tool == "echo" && a.Channel == audit.ChannelToolInput && a.Domain == "tools"
		},
		"lookup_customer result as tool_output": func(a audit.Record) bool {
			return a.Kind == audit.KindMessage && a.Tool == "lookup_customer" && a.Channel == audit.ChannelToolOutput && a.RPCMethod == "tools/call"
		},
		"progress notification as tool_output": func(a audit.Record) bool {
			return a.RPCMethod == "notifications/progress" && a.Channel == audit.ChannelToolOutput
		},
		"tools/list as tool_input": func(a audit.Record) bool {
			return a.Kind == audit.KindMessage && a.RPCMethod == "tools/list" && a.Channel == audit.ChannelToolInput
		},
		"exchange with findings and masked keys": func(a audit.Record) bool {
			return a.Kind == audit.KindRequest && a.Tool == "lookup_customer" && a.Protocol == "mcp" &&
				slices.Contains(a.ReasonCodes, "finding/request/ssn/redact/$.params.arguments.note") &&
				slices.Contains(a.ReasonCodes, "finding/response/ssn/redact/$.result.content[0].text") &&
				slices.Contains(a.MaskedKeys, "jsonrpc_id") && slices.Contains(a.MaskedKeys, "Traceparent")
		},
		"metadata keys named": func(a audit.Record) bool { return slices.Contains(a.MaskedKeys, "$.params._meta.sender_ip") },
	})
	for _, a := range enforcerRecords(m, r.PID) {
		if a.RPCMethod == "tools/call" && a.Channel != audit.ChannelToolInput && a.Channel != audit.ChannelToolOutput {
			t.Errorf("a tools/call message labelled %s: %+v", a.Channel, a)
		}
	}
	checkAuditLogNeverHolds(t, m, goSSN, "sk-live-go-1", goTraceID, goSenderIP, goTenant, sid, "9.9.9-test", goUserAgent)
}

func TestMCPGoSDKStatelessRevisionKeepsMcpMethodAndNameInStepWithRedactedBodies(t *testing.T) {
	m := newGoSDKWorld(t)
	srv := startMCPGoServer(t, "127.0.0.2", true)
	r := runAgent(t, m, "orchestrator", goAgent(t, "mcpgo"), "--url", "http://"+srv.Addr+"/mcp",
		`{"op":"call","name":"echo","arguments":{"text":"ssn `+goSSN+` here"}}`,
		`{"op":"call","name":"lookup_customer","arguments":{"customer_id":"c-7"}}`)
	conn := r.last("connected")
	if conn == nil || conn.Protocol != protocol.MCPStatelessVersion {
		t.Fatalf("connected %+v, want the stateless revision %s\n%s", conn, protocol.MCPStatelessVersion, clip(r.Out))
	}
	if got := mcpToolText(t, r.result(t, "call", "echo").Result); got != `{"text":"ssn [redacted:ssn] here"}` {
		t.Errorf("echo through the enforcer: %s", got)
	}
	if got := mcpToolText(t, r.result(t, "call", "lookup_customer").Result); got != "customer c-7: ssn [redacted:ssn], plan gold" {
		t.Errorf("lookup_customer through the enforcer: %s", got)
	}
	var mirrored int
	for _, q := range srv.http.all() {
		var body struct {
			Method string
			Params struct{ Name string }
		}
		if json.Unmarshal(q.Body, &body) != nil || body.Method == "" {
			continue
		}
		if hm := q.Header.Get("Mcp-Method"); hm != "" {
			mirrored++
			if hm != body.Method {
				t.Errorf("Mcp-Method %q at the server, body says %q", hm, body.Method)
			}
		}
		if hn := q.Header.Get("Mcp-Name"); body.Method == "tools/call" && hn != body.Params.Name {
			t.Errorf("Mcp-Name %q at the server, body names %q", hn, body.Params.Name)
		}
	}
	if mirrored == 0 {
		t.Errorf("no request carried Mcp-Method: the stateless revision was not exercised")
	}
	waitRecords(t, m, r.PID, map[string]func(audit.Record) bool{
		"echo as tool_input": func(a audit.Record) bool { return a.Tool == "echo" && a.Channel == audit.ChannelToolInput },
	})
}

func TestMCPGoSDKRefusalsReachTheClientAsJSONRPCErrorsWithTheirReason(t *testing.T) {
	m := newGoSDKWorld(t)
	srv := startMCPGoServer(t, "127.0.0.2", false)
	unmapped := startMCPGoServer(t, "127.0.0.7", false)
	wantRefusal := func(what string, e clientError, reason string) {
		t.Helper()
		var code int
		if err := json.Unmarshal(e.Code, &code); err != nil || code != protocol.CodePolicyRefusal {
			t.Errorf("%s: the SDK raised %q with code %s, want a JSON-RPC error %d", what, e.Message, e.Code, protocol.CodePolicyRefusal)
		}
		var data protocol.RefusalData
		if err := json.Unmarshal(e.Data, &data); err != nil || data.Reason != reason || !strings.Contains(e.RPCMessage, reason) {
			t.Errorf("%s: error message %q data %s, want reason %s", what, e.RPCMessage, e.Data, reason)
		}
	}

	role := runAgent(t, m, "retriever", goAgent(t, "mcpgo"), "--url", "http://"+srv.Addr+"/mcp", `{"op":"list"}`)
	wantRefusal("retriever's connect", role.refused(t, "connect", ""), "role_not_allowed")
	nopol := runAgent(t, m, "orchestrator", goAgent(t, "mcpgo"), "--url", "http://"+unmapped.Addr+"/mcp", `{"op":"list"}`)
	wantRefusal("connect without a domain", nopol.refused(t, "connect", ""), "no_policy")
	if n := len(srv.http.all()) + len(unmapped.http.all()); n != 0 {
		t.Errorf("the servers received %d requests from refused agents", n)
	}

	r := runAgent(t, m, "orchestrator", goAgent(t, "mcpgo"), "--url", "http://"+srv.Addr+"/mcp",
		`{"op":"call","name":"echo","arguments":{"note":"see CANARY_7f3a9c2e0b1d"}}`,
		`{"op":"call","name":"lookup_customer","arguments":{"customer_id":"mw-canary-7f3a9c2e"}}`,
		`{"op":"call","name":"echo","arguments":{"login":{"user":"ops","Password":"hunter2-go"}}}`,
		`{"op":"call","name":"echo","arguments":{"text":"clean call after the refusals"}}`)
	echoes := r.outcomes("call", "echo")
	if len(echoes) != 3 || echoes[0].Error == nil || echoes[1].Error == nil || echoes[2].Error != nil {
		t.Fatalf("echo outcomes: %s", rawOf(echoes))
	}
	wantRefusal("canary prefix", *echoes[0].Error, "classification_block")
	wantRefusal("password field", *echoes[1].Error, "classification_block")
	wantRefusal("canary literal", r.refused(t, "call", "lookup_customer"), "classification_block")
	if got := mcpToolText(t, echoes[2].Result); !strings.Contains(got, "clean call after the refusals") {
		t.Errorf("clean call returned %q", got)
	}
	for _, q := range srv.http.all() {
		for _, v := range []string{"CANARY_7f3a9c2e0b1d", "mw-canary-7f3a9c2e", "hunter2-go"} {
			if strings.Contains(string(q.Body), v) {
				t.Errorf("%q reached the server", v)
			}
		}
	}
	refused := func(reason string) func(audit.Record) bool {
		return func(a audit.Record) bool { return a.Verdict == "DENY" && a.Reason == reason }
	}
	waitRecords(t, m, role.PID, map[string]func(audit.Record) bool{"role_not_allowed": refused("role_not_allowed")})
	waitRecords(t, m, nopol.PID, map[string]func(audit.Record) bool{"no_policy": refused("no_policy")})
	waitRecords(t, m, r.PID, map[string]func(audit.Record) bool{
		"classification_block": refused("classification_block"),
		"the canary's finding named": func(a audit.Record) bool {
			return slices.Contains(a.ReasonCodes, "finding/request/canary/block/$.params.arguments.note")
		},
	})
	checkAuditLogNeverHolds(t, m, "CANARY_7f3a9c2e0b1d", "hunter2-go")
}
