package test

// End-to-end tests with the official OpenAI Go SDK (github.com/openai/openai-go/v3) as the
// client (test/agents/openaigo, inside an agent's cgroup) of a local OpenAI-compatible server
// (outside every agent cgroup).

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

func TestOpenAIGoSDKChatToolCallsAndReasoningAreRedactedScrubbedAndLabelled(t *testing.T) {
	m := newGoSDKWorld(t)
	llm := startLLMServer(t, "127.0.0.8")
	r := runAgent(t, m, "frontend", goAgent(t, "openaigo"), append(append([]string{"--url", "http://" + llm.Addr + "/v1"}, scrubbedHeaderArgs()...),
		`{"op":"chat","user":"Please use the tool to find customer c-42","tools":true}`,
		`{"op":"chat","user":"What plan is the customer on?","tool_result":{"call_id":"call_lookup_1","content":"customer c-42, ssn `+goSSN+`, plan gold"}}`,
		`{"op":"chat","user":"Summarise the customer"}`)...)

	results := r.outcomes("chat", "")
	if len(results) != 3 {
		t.Fatalf("chat outcomes: %s", rawOf(results))
	}
	for i, e := range results {
		if e.Event != "result" {
			t.Fatalf("chat %d failed: %s", i, e.Raw)
		}
	}
	// A tool call: its arguments (a JSON string) redacted and still JSON; the reasoning redacted.
	call := results[0]
	if call.Finish != "tool_calls" || len(call.ToolCalls) != 1 || call.ToolCalls[0]["name"] != "lookup_customer" || call.ToolCalls[0]["id"] != "call_lookup_1" {
		t.Fatalf("tool call at the client: %s", call.Raw)
	}
	var args map[string]any
	if err := json.Unmarshal([]byte(call.ToolCalls[0]["arguments"].(string)), &args); err != nil || args["ssn"] != "[redacted:ssn]" || args["customer_id"] != "c-42" {
		t.Errorf("tool call arguments at the client: %v (%v)", call.ToolCalls[0]["arguments"], err)
	}
	if call.Reasoning != "The user asked about the customer whose ssn is [redacted:ssn]." {
		t.Errorf("reasoning at the client: %q", call.Reasoning)
	}
	if got := results[1].Content; got != "Customer c-42 is on the gold plan." {
		t.Errorf("answer after the tool result: %q", got)
	}
	if got := results[2].Content; got != "The customer with ssn [redacted:ssn] is on the gold plan." {
		t.Errorf("answer at the client: %q", got)
	}

	// What the server saw: no scrubbed header, no SDK fingerprint (X-Stainless-*), the tool's
	// answer (role tool) redacted on its way to the model.
	reqs := llm.http.all()
	checkHeadersScrubbed(t, reqs)
	if len(reqs) != 3 || strings.Contains(string(reqs[1].Body), goSSN) || !strings.Contains(string(reqs[1].Body), "ssn [redacted:ssn], plan gold") {
		t.Errorf("the tool's answer reached the model as %s", reqs[min(1, len(reqs)-1)].Body)
	}
	for _, e := range r.all("http") {
		for _, h := range []string{"x-request-id", "openai-processing-ms"} {
			if h == "x-request-id" && e.Headers[h] != "" {
				t.Errorf("the client received %s: %s", h, e.Headers[h])
			}
		}
	}

	// Channels: the prompt and the model's answers between agents are inter_agent, but this
	// client is user-facing: what the model answers it is final_output; the model's reasoning
	// is reasoning; its tool call is tool_input; the tool's answer sent to the model is
	// tool_output.
	recs := waitRecords(t, m, r.PID, map[string]func(audit.Record) bool{
		"prompt as inter_agent": func(a audit.Record) bool {
			return a.Kind == audit.KindMessage && a.Channel == audit.ChannelInterAgent && strings.HasPrefix(a.Message, "request prompt")
		},
		"tool call as tool_input": func(a audit.Record) bool {
			return a.Kind == audit.KindMessage && a.Channel == audit.ChannelToolInput && a.Tool == "lookup_customer" && strings.HasPrefix(a.Message, "response tool_call")
		},
		"reasoning as reasoning": func(a audit.Record) bool {
			return a.Kind == audit.KindMessage && a.Channel == audit.ChannelReasoning && strings.HasPrefix(a.Message, "response reasoning")
		},
		"tool answer as tool_output": func(a audit.Record) bool {
			return a.Kind == audit.KindMessage && a.Channel == audit.ChannelToolOutput && strings.HasPrefix(a.Message, "request tool_result")
		},
		"answer as final_output": func(a audit.Record) bool {
			return a.Kind == audit.KindMessage && a.Channel == audit.ChannelFinalOutput && strings.HasPrefix(a.Message, "response completion")
		},
		"exchange of the models domain": func(a audit.Record) bool {
			return a.Kind == audit.KindRequest && a.Domain == "models" && a.Protocol == "openai" && a.Status == 200 &&
				slices.Contains(a.ReasonCodes, "finding/response/ssn/redact/$.choices[0].message.reasoning_content") &&
				slices.ContainsFunc(a.MaskedKeys, func(k string) bool { return strings.HasPrefix(k, "X-Stainless-") })
		},
	})
	for _, a := range recs {
		if a.Kind == audit.KindMessage && strings.HasPrefix(a.Message, "response completion") && a.Channel != audit.ChannelFinalOutput {
			t.Errorf("a completion to the user-facing agent labelled %s: %+v", a.Channel, a)
		}
	}
	checkAuditLogNeverHolds(t, m, goSSN, goTraceID, goSenderIP, goTenant, goUserAgent)
}

func TestOpenAIGoSDKStreamedChunksArriveOneByOneRedactedAndTheStreamIsAuditedWhole(t *testing.T) {
	m := newGoSDKWorld(t)
	llm := startLLMServer(t, "127.0.0.8")
	r := runAgent(t, m, "frontend", goAgent(t, "openaigo"), "--url", "http://"+llm.Addr+"/v1",
		`{"op":"chat","user":"Summarise the customer","stream":true}`)
	res := r.result(t, "stream", "")
	if res.Content != "The customer with ssn [redacted:ssn] is on the gold plan." || res.Reasoning != "The user asked about the customer whose ssn is [redacted:ssn]." {
		t.Errorf("assembled stream at the client: content %q reasoning %q", res.Content, res.Reasoning)
	}
	chunks := r.all("chunk")
	if len(chunks) < 6 {
		t.Fatalf("%d chunks: %s", len(chunks), rawOf(chunks))
	}
	// The server sends a chunk every 250 ms: the client must get them as they come.
	for i := 2; i < len(chunks); i++ {
		if gap := chunks[i].T - chunks[i-1].T; gap < 150 {
			t.Errorf("chunks %d and %d arrived %d ms apart, sent %d ms apart: the stream was buffered", i-1, i, gap, llmChunkGap.Milliseconds())
		}
	}
	if strings.Contains(r.Out, goSSN) {
		t.Errorf("the SSN reached the client")
	}
	waitRecords(t, m, r.PID, map[string]func(audit.Record) bool{
		"assembled reasoning as reasoning": func(a audit.Record) bool {
			return a.Kind == audit.KindMessage && a.Channel == audit.ChannelReasoning && strings.HasPrefix(a.Message, "response reasoning")
		},
		"assembled answer as final_output": func(a audit.Record) bool {
			return a.Kind == audit.KindMessage && a.Channel == audit.ChannelFinalOutput && strings.HasPrefix(a.Message, "response completion")
		},
		"exchange relayed": func(a audit.Record) bool {
			return a.Kind == audit.KindRequest && a.Domain == "models" && a.Reason == "relayed" && a.BytesOut > 0
		},
	})
	checkAuditLogNeverHolds(t, m, goSSN)
}

func TestOpenAIGoSDKRefusalsArriveAsAPIErrorsWithTheirReason(t *testing.T) {
	m := newGoSDKWorld(t)
	llm := startLLMServer(t, "127.0.0.8")
	wantAPIRefusal := func(what string, e clientError, status int, reason string) {
		t.Helper()
		var code string
		_ = json.Unmarshal(e.Code, &code)
		if e.Status != status || code != reason || e.Type != "policy_refusal" || !strings.Contains(e.APIMessage, reason) {
			t.Errorf("%s: the SDK raised %+v, want HTTP %d with code %s", what, e, status, reason)
		}
	}
	role := runAgent(t, m, "retriever", goAgent(t, "openaigo"), "--url", "http://"+llm.Addr+"/v1", `{"op":"chat","user":"hello"}`)
	wantAPIRefusal("retriever", role.refused(t, "chat", ""), 403, "role_not_allowed")

	r := runAgent(t, m, "frontend", goAgent(t, "openaigo"), "--url", "http://"+llm.Addr+"/v1",
		`{"op":"chat","user":"forward CANARY_5b2e11 to the model"}`,
		`{"op":"chat","user":"leak the secret"}`,
		`{"op":"chat","user":"stream and leak the secret","stream":true}`,
		`{"op":"chat","user":"a clean question"}`)
	outcomes := r.outcomes("chat", "")
	if len(outcomes) != 3 || outcomes[0].Error == nil || outcomes[1].Error == nil || outcomes[2].Error != nil {
		t.Fatalf("chat outcomes: %s", rawOf(outcomes))
	}
	wantAPIRefusal("canary in the prompt", *outcomes[0].Error, 403, "classification_block")
	wantAPIRefusal("canary in the answer", *outcomes[1].Error, 403, "classification_block")
	stream := r.refused(t, "stream", "")
	if !strings.Contains(stream.Stream, "classification_block") || !jsonHas(stream.RawBody, "reason", "classification_block") {
		t.Errorf("refused stream: %+v", stream)
	}
	if strings.Contains(r.Out, "CANARY_9e1d44") {
		t.Errorf("the model's canary reached the client")
	}
	for _, q := range llm.http.all() {
		if strings.Contains(string(q.Body), "CANARY_5b2e11") {
			t.Errorf("the client's canary reached the model")
		}
	}
	waitRecords(t, m, r.PID, map[string]func(audit.Record) bool{
		"request refused": func(a audit.Record) bool {
			return a.Kind == audit.KindRequest && a.Verdict == "DENY" && a.Reason == "classification_block" &&
				slices.Contains(a.ReasonCodes, "finding/request/canary/block/$.messages[1].content")
		},
		"response refused": func(a audit.Record) bool {
			return a.Kind == audit.KindRequest && a.Verdict == "DENY" && a.Reason == "classification_block" && a.Status == 403 &&
				slices.Contains(a.ReasonCodes, "finding/response/canary/block/$.choices[0].message.content")
		},
	})
	checkAuditLogNeverHolds(t, m, "CANARY_5b2e11", "CANARY_9e1d44")
}

// jsonHas reports whether a JSON document holds key: value at any depth.
func jsonHas(doc json.RawMessage, key, value string) bool {
	var v any
	if json.Unmarshal(doc, &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case map[string]any:
			if x[key] == value {
				return true
			}
			for _, c := range x {
				if walk(c) {
					return true
				}
			}
		case []any:
			for _, c := range x {
				if walk(c) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}
