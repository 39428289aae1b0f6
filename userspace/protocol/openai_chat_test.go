package protocol_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

const chatRequest = `{
  "model": "gpt-4o",
  "messages": [
    {"role": "system", "content": "You are a clinic assistant."},
    {"role": "user", "content": [{"type": "text", "text": "Email the allergy list of patient PT-178299 to dr.clay@example.com"},
                                 {"type": "image_url", "image_url": {"url": "https://files.example/chart.png"}}]},
    {"role": "assistant", "content": null, "reasoning_content": "The user wants an email; first look up allergies.",
     "tool_calls": [{"id": "call_abc", "type": "function", "function": {"name": "lookup_allergies", "arguments": "{\"patient_id\":\"PT-178299\"}"}}]},
    {"role": "tool", "tool_call_id": "call_abc", "content": "{\"allergies\":[\"Penicillin\"],\"ssn\":\"939-79-6410\"}"},
    {"role": "assistant", "content": "<think>Now send the mail.</think>Sending now.",
     "tool_calls": [{"id": "call_def", "type": "function", "function": {"name": "remember_fact", "arguments": "{\"fact\":\"PT-178299 allergic to penicillin\"}"}}]}
  ],
  "tools": [{"type": "function", "function": {"name": "lookup_allergies", "description": "Look up allergies", "parameters": {"type": "object"}}}],
  "stream": false
}`

func TestOpenAIChatRequestLabelsEachPartOfTheConversation(t *testing.T) {
	b := parseReq(t, "POST", "/v1/chat/completions", hdr(jsonCT...), chatRequest, protocol.Hints{Server: protocol.DestLLM})
	if b.Protocol != protocol.ProtoOpenAIChat {
		t.Fatalf("protocol %s", b.Protocol)
	}
	wantBriefs(t, b.Messages,
		brief{protocol.KindPrompt, protocol.ChannelInterAgent, "", "You are a clinic assistant."},
		brief{protocol.KindPrompt, protocol.ChannelInterAgent, "", "Email the allergy list of patient PT-178299 to dr.clay@example.com"},
		brief{protocol.KindReasoning, protocol.ChannelReasoning, "", "The user wants an email; first look up allergies."},
		brief{protocol.KindToolCall, protocol.ChannelToolInput, "lookup_allergies", `{"patient_id":"PT-178299"}`},
		brief{protocol.KindToolResult, protocol.ChannelToolOutput, "", `{"allergies":["Penicillin"],"ssn":"939-79-6410"}`},
		brief{protocol.KindReasoning, protocol.ChannelReasoning, "", "Now send the mail."},
		brief{protocol.KindPrompt, protocol.ChannelInterAgent, "", "Sending now."},
		brief{protocol.KindToolCall, protocol.ChannelMemoryWrite, "remember_fact", `{"fact":"PT-178299 allergic to penicillin"}`},
	)
	if m := b.Messages[3]; m.CallID != "call_abc" || m.Args.Get("patient_id").Str() != "PT-178299" {
		t.Errorf("tool call: %+v", m)
	}
	if m := b.Messages[4]; m.CallID != "call_abc" || m.Role != "tool" {
		t.Errorf("tool result: %+v", m)
	}
	if c := b.Messages[1].Content; len(c) != 2 || c[1].Type != "image_url" || c[1].URI != "https://files.example/chart.png" {
		t.Errorf("user content: %+v", c)
	}
	// A finding inside decoded arguments belongs to the tool call; tool definitions fall to the
	// body's default.
	if c := b.ChannelAt(mustPath(t, "/messages/2/tool_calls/0/function/arguments#/patient_id")); c != protocol.ChannelToolInput {
		t.Errorf("argument channel = %s", c)
	}
	if c := b.ChannelAt(mustPath(t, "/tools/0/function/description")); c != b.Default || c != protocol.ChannelInterAgent {
		t.Errorf("tools channel = %s (default %s)", c, b.Default)
	}
	// Redacting inside the arguments string re-encodes it; the rest of the body is intact.
	if err := b.Doc.SetString(mustPath(t, "/messages/2/tool_calls/0/function/arguments#/patient_id"), "[redacted:id]"); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Messages []struct {
			ToolCalls []struct {
				Function struct{ Arguments string }
			} `json:"tool_calls"`
		}
		Stream *bool
	}
	if err := json.Unmarshal(b.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.Messages[2].ToolCalls[0].Function.Arguments != `{"patient_id":"[redacted:id]"}` || out.Stream == nil {
		t.Errorf("edited body: %s", b.Bytes())
	}
}

func TestOpenAIChatResponseSplitsReasoningAnswerAndToolCalls(t *testing.T) {
	req := parseReq(t, "POST", "/v1/chat/completions", hdr(jsonCT...), chatRequest, protocol.Hints{})
	resp := parseResp(t, req, hdr(jsonCT...), `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"deepseek-r1",
	  "choices":[{"index":0,"message":{"role":"assistant","reasoning":"Plan: answer briefly.","content":"<think>User is a doctor.</think>\n\nPenicillin.","refusal":null},"finish_reason":"stop"},
	             {"index":1,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_x","type":"function","function":{"name":"send_email","arguments":"{\"to\":\"dr.clay@example.com\"}"}}]},"finish_reason":"tool_calls"}],
	  "usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}`, protocol.Hints{})
	wantBriefs(t, resp.Messages,
		brief{protocol.KindReasoning, protocol.ChannelReasoning, "", "Plan: answer briefly."},
		brief{protocol.KindReasoning, protocol.ChannelReasoning, "", "User is a doctor."},
		brief{protocol.KindCompletion, protocol.ChannelInterAgent, "", "Penicillin."},
		brief{protocol.KindToolCall, protocol.ChannelToolInput, "send_email", `{"to":"dr.clay@example.com"}`},
	)
	// To a user-facing client, the answer is the final output; reasoning stays reasoning.
	resp = parseResp(t, req, hdr(jsonCT...), `{"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"<think>x</think>Penicillin."}}]}`,
		protocol.Hints{Client: protocol.DestUser})
	wantBriefs(t, resp.Messages,
		brief{protocol.KindReasoning, protocol.ChannelReasoning, "", "x"},
		brief{protocol.KindCompletion, protocol.ChannelFinalOutput, "", "Penicillin."},
	)
}

func chunk(delta string) string {
	return `data: {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":` + delta + `,"finish_reason":null}]}` + "\n\n"
}

func TestOpenAIChatStreamAccumulatesToolCallFragmentsByIndex(t *testing.T) {
	stream := chunk(`{"role":"assistant","content":null}`) +
		chunk(`{"reasoning_content":"Need two lookups."}`) +
		chunk(`{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]}`) +
		chunk(`{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"memory_add","arguments":""}}]}`) +
		chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}`) +
		chunk(`{"tool_calls":[{"index":1,"function":{"arguments":"{\"note\":\"SSN 939-"}}]}`) +
		chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}`) +
		chunk(`{"tool_calls":[{"index":1,"function":{"arguments":"79-6410\"}"}}]}`) +
		`data: {"id":"chatcmpl-9","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}` + "\n\n" +
		`data: {"id":"chatcmpl-9","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":9,"total_tokens":14}}` + "\n\n" +
		"data: [DONE]\n\n"
	req := parseReq(t, "POST", "/v1/chat/completions", hdr(jsonCT...), `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`, protocol.Hints{})
	bodies, sum := parseStream(t, req, stream, protocol.Hints{})
	var frags []string
	for _, b := range bodies {
		for _, m := range b.Messages {
			if !m.Partial {
				t.Errorf("fragment not marked partial: %+v", m)
			}
			frags = append(frags, string(m.Channel)+":"+m.Name+":"+m.Text)
		}
	}
	want := `reasoning::Need two lookups. tool_input:get_weather: memory_write:memory_add: tool_input:get_weather:{"city": ` +
		`memory_write:memory_add:{"note":"SSN 939- tool_input:get_weather:"Paris"} memory_write:memory_add:79-6410"}`
	if got := strings.Join(frags, " "); got != want {
		t.Errorf("fragments:\n got  %s\n want %s", got, want)
	}
	wantBriefs(t, sum,
		brief{protocol.KindReasoning, protocol.ChannelReasoning, "", "Need two lookups."},
		brief{protocol.KindToolCall, protocol.ChannelToolInput, "get_weather", `{"city":"Paris"}`},
		brief{protocol.KindToolCall, protocol.ChannelMemoryWrite, "memory_add", `{"note":"SSN 939-79-6410"}`},
	)
	if sum[1].CallID != "call_a" || sum[1].Args.Get("city").Str() != "Paris" || sum[2].Args.Get("note").Str() != "SSN 939-79-6410" {
		t.Errorf("assembled calls: %+v / %+v", sum[1], sum[2])
	}
}

func TestOpenAIChatStreamFollowsThinkBlocksAcrossChunks(t *testing.T) {
	stream := chunk(`{"role":"assistant","content":"<thi"}`) +
		chunk(`{"content":"nk>The SSN is 939-"}`) +
		chunk(`{"content":"79-6410.</th"}`) +
		chunk(`{"content":"ink>It is "}`) +
		chunk(`{"content":"done."}`) +
		"data: [DONE]\n\n"
	bodies, sum := parseStream(t, nil, stream, protocol.Hints{Client: protocol.DestUser})
	var reasoning, answer strings.Builder
	for _, b := range bodies {
		if b.Protocol != protocol.ProtoOpenAIChat {
			t.Errorf("protocol %s (detected from the chunk without a request)", b.Protocol)
		}
		for _, m := range b.Messages {
			switch m.Channel {
			case protocol.ChannelReasoning:
				reasoning.WriteString(m.Text)
			case protocol.ChannelFinalOutput:
				answer.WriteString(m.Text)
			default:
				t.Errorf("unexpected %+v", m)
			}
		}
	}
	if reasoning.String() != "The SSN is 939-79-6410." || answer.String() != "It is done." {
		t.Errorf("reasoning %q answer %q", reasoning.String(), answer.String())
	}
	wantBriefs(t, sum,
		brief{protocol.KindReasoning, protocol.ChannelReasoning, "", "The SSN is 939-79-6410."},
		brief{protocol.KindCompletion, protocol.ChannelFinalOutput, "", "It is done."},
	)
}

func TestSplitThink(t *testing.T) {
	for in, want := range map[string][2]string{
		"plain answer":                        {"", "plain answer"},
		"<think>a</think>b":                   {"a", "b"},
		"<think>a</think>b<think>c</think>d":  {"a\nc", "bd"},
		"<thinking>deep</thinking>\n\nanswer": {"deep", "answer"},
		"<think>never closed":                 {"never closed", ""},
		"reasoning first</think>answer":       {"reasoning first", "answer"},
		"answer, then a stray </think> later": {"answer, then a stray", "later"},
		"a <think>x</think> b </think> c":     {"x", "a  b </think> c"},
		"mentions <thin but no tag":           {"", "mentions <thin but no tag"},
	} {
		r, a := protocol.SplitThink(in)
		if r != want[0] || a != want[1] {
			t.Errorf("SplitThink(%q) = %q, %q; want %q, %q", in, r, a, want[0], want[1])
		}
	}
}
