package protocol_test

import (
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

func TestOpenAIResponsesRequestLabelsInputItems(t *testing.T) {
	b := parseReq(t, "POST", "/v1/responses", hdr(jsonCT...), `{
	  "model": "o4-mini",
	  "instructions": "You are a billing agent.",
	  "input": [
	    {"role": "user", "content": [{"type": "input_text", "text": "Refund card 4111 1111 1111 1111"},
	                                 {"type": "input_file", "filename": "invoice.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}]},
	    {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Need the order first."}], "encrypted_content": "gAAAA"},
	    {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_order", "arguments": "{\"card\":\"4111 1111 1111 1111\"}"},
	    {"type": "function_call_output", "call_id": "call_1", "output": "{\"order\":\"A-7\",\"amount\":42}"},
	    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Found order A-7.", "annotations": []}]},
	    {"type": "item_reference", "id": "msg_0"}
	  ],
	  "tools": [{"type": "function", "name": "get_order", "parameters": {"type": "object"}}]
	}`, protocol.Hints{Server: protocol.DestLLM})
	if b.Protocol != protocol.ProtoOpenAIResponses {
		t.Fatalf("protocol %s", b.Protocol)
	}
	wantBriefs(t, b.Messages,
		brief{protocol.KindPrompt, protocol.ChannelInterAgent, "", "You are a billing agent."},
		brief{protocol.KindPrompt, protocol.ChannelInterAgent, "", "Refund card 4111 1111 1111 1111"},
		brief{protocol.KindReasoning, protocol.ChannelReasoning, "", "Need the order first."},
		brief{protocol.KindToolCall, protocol.ChannelToolInput, "get_order", `{"card":"4111 1111 1111 1111"}`},
		brief{protocol.KindToolResult, protocol.ChannelToolOutput, "", `{"order":"A-7","amount":42}`},
		brief{protocol.KindPrompt, protocol.ChannelInterAgent, "", "Found order A-7."},
	)
	if m := b.Messages[3]; m.CallID != "call_1" || m.Args.Get("card").Str() != "4111 1111 1111 1111" {
		t.Errorf("function_call: %+v", m)
	}
	if m := b.Messages[4]; m.CallID != "call_1" {
		t.Errorf("function_call_output: %+v", m)
	}
	if c := b.Messages[1].Content; len(c) != 2 || c[1].Type != "input_file" || c[1].Name != "invoice.pdf" {
		t.Errorf("content: %+v", c)
	}
	s := parseReq(t, "POST", "/v1/responses", hdr(jsonCT...), `{"model":"gpt-4.1","input":"Tell me a joke"}`, protocol.Hints{})
	wantBriefs(t, s.Messages, brief{protocol.KindPrompt, protocol.ChannelInterAgent, "", "Tell me a joke"})
}

const responsesOutput = `{"id":"resp_1","object":"response","status":"completed","model":"o4-mini","output":[
  {"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"**Checking order** The card is 4111..."}]},
  {"type":"mcp_call","id":"mcp_1","server_label":"crm","name":"lookup_customer","arguments":"{\"email\":\"jane@example.com\"}","output":"Jane Doe, +1 555 0136","error":null},
  {"type":"function_call","id":"fc_2","call_id":"call_2","name":"store_note","arguments":"{\"note\":\"refund approved\"}","status":"completed"},
  {"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Refund issued to Jane.","annotations":[]}]}
],"usage":{"input_tokens":10,"output_tokens":20}}`

func TestOpenAIResponsesOutputItems(t *testing.T) {
	req := parseReq(t, "POST", "/v1/responses", hdr(jsonCT...), `{"model":"o4-mini","input":"refund"}`, protocol.Hints{})
	b := parseResp(t, req, hdr(jsonCT...), responsesOutput, protocol.Hints{Client: protocol.DestUser})
	wantBriefs(t, b.Messages,
		brief{protocol.KindReasoning, protocol.ChannelReasoning, "", "**Checking order** The card is 4111..."},
		brief{protocol.KindToolCall, protocol.ChannelToolInput, "lookup_customer", `{"email":"jane@example.com"}`},
		brief{protocol.KindToolResult, protocol.ChannelToolOutput, "lookup_customer", "Jane Doe, +1 555 0136"},
		brief{protocol.KindToolCall, protocol.ChannelMemoryWrite, "store_note", `{"note":"refund approved"}`},
		brief{protocol.KindCompletion, protocol.ChannelFinalOutput, "", "Refund issued to Jane."},
	)
	if c := b.ChannelAt(mustPath(t, "/output/1/output")); c != protocol.ChannelToolOutput {
		t.Errorf("mcp_call output channel = %s", c)
	}
	if c := b.ChannelAt(mustPath(t, "/output/1/arguments#/email")); c != protocol.ChannelToolInput {
		t.Errorf("mcp_call argument channel = %s", c)
	}
}

func TestOpenAIResponsesStreamEvents(t *testing.T) {
	ev := func(typ, data string) string { return "event: " + typ + "\ndata: " + data + "\n\n" }
	stream := ev("response.created", `{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[]}}`) +
		ev("response.output_item.added", `{"type":"response.output_item.added","sequence_number":1,"output_index":0,"item":{"type":"reasoning","id":"rs_1","summary":[]}}`) +
		ev("response.reasoning_summary_text.delta", `{"type":"response.reasoning_summary_text.delta","sequence_number":2,"item_id":"rs_1","output_index":0,"summary_index":0,"delta":"Looking up "}`) +
		ev("response.reasoning_summary_text.delta", `{"type":"response.reasoning_summary_text.delta","sequence_number":3,"item_id":"rs_1","output_index":0,"summary_index":0,"delta":"the order."}`) +
		ev("response.output_item.added", `{"type":"response.output_item.added","sequence_number":4,"output_index":1,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"get_order","arguments":""}}`) +
		ev("response.function_call_arguments.delta", `{"type":"response.function_call_arguments.delta","sequence_number":5,"item_id":"fc_1","output_index":1,"delta":"{\"card\":\"4111 1111"}`) +
		ev("response.function_call_arguments.delta", `{"type":"response.function_call_arguments.delta","sequence_number":6,"item_id":"fc_1","output_index":1,"delta":" 1111 1111\"}"}`) +
		ev("response.function_call_arguments.done", `{"type":"response.function_call_arguments.done","sequence_number":7,"item_id":"fc_1","output_index":1,"arguments":"{\"card\":\"4111 1111 1111 1111\"}"}`) +
		ev("response.output_item.added", `{"type":"response.output_item.added","sequence_number":8,"output_index":2,"item":{"type":"message","id":"msg_1","role":"assistant","content":[]}}`) +
		ev("response.content_part.added", `{"type":"response.content_part.added","sequence_number":9,"item_id":"msg_1","output_index":2,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}`) +
		ev("response.output_text.delta", `{"type":"response.output_text.delta","sequence_number":10,"item_id":"msg_1","output_index":2,"content_index":0,"delta":"Order A-7 "}`) +
		ev("response.output_text.delta", `{"type":"response.output_text.delta","sequence_number":11,"item_id":"msg_1","output_index":2,"content_index":0,"delta":"refunded."}`) +
		ev("response.output_text.done", `{"type":"response.output_text.done","sequence_number":12,"item_id":"msg_1","output_index":2,"content_index":0,"text":"Order A-7 refunded."}`) +
		ev("response.completed", `{"type":"response.completed","sequence_number":13,"response":{"id":"resp_1","object":"response","status":"completed","output":[`+
			`{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Looking up the order."}]},`+
			`{"type":"function_call","id":"fc_1","call_id":"call_1","name":"get_order","arguments":"{\"card\":\"4111 1111 1111 1111\"}"},`+
			`{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":"Order A-7 refunded.","annotations":[]}]}]}}`)
	req := parseReq(t, "POST", "/v1/responses", hdr(jsonCT...), `{"model":"o4-mini","input":"refund","stream":true}`, protocol.Hints{})
	bodies, sum := parseStream(t, req, stream, protocol.Hints{})
	var got []string
	for _, b := range bodies {
		for _, m := range b.Messages {
			got = append(got, m.Method+"|"+string(m.Channel)+"|"+m.Name+"|"+m.Text)
		}
	}
	want := []string{
		"response.output_item.added|reasoning||",
		"response.reasoning_summary_text.delta|reasoning||Looking up ",
		"response.reasoning_summary_text.delta|reasoning||the order.",
		"response.output_item.added|tool_input|get_order|",
		`response.function_call_arguments.delta|tool_input|get_order|{"card":"4111 1111`,
		`response.function_call_arguments.delta|tool_input|get_order| 1111 1111"}`,
		`response.function_call_arguments.done|tool_input|get_order|{"card":"4111 1111 1111 1111"}`,
		"response.output_item.added|inter_agent||",
		"response.content_part.added|inter_agent||",
		"response.output_text.delta|inter_agent||Order A-7 ",
		"response.output_text.delta|inter_agent||refunded.",
		"response.output_text.done|inter_agent||Order A-7 refunded.",
		"response.completed|reasoning||Looking up the order.",
		`response.completed|tool_input|get_order|{"card":"4111 1111 1111 1111"}`,
		"response.completed|inter_agent||Order A-7 refunded.",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantBriefs(t, sum,
		brief{protocol.KindReasoning, protocol.ChannelReasoning, "", "Looking up the order."},
		brief{protocol.KindToolCall, protocol.ChannelToolInput, "get_order", `{"card":"4111 1111 1111 1111"}`},
		brief{protocol.KindCompletion, protocol.ChannelInterAgent, "", "Order A-7 refunded."},
	)
}

func TestOpenAIResponsesStreamCutShortIsAssembledFromDeltas(t *testing.T) {
	ev := func(data string) string { return "data: " + data + "\n\n" }
	stream := ev(`{"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","id":"fc_1","call_id":"call_9","name":"memory_write","arguments":""}}`) +
		ev(`{"type":"response.function_call_arguments.delta","output_index":0,"item_id":"fc_1","delta":"{\"k\":"}`) +
		ev(`{"type":"response.function_call_arguments.delta","output_index":0,"item_id":"fc_1","delta":"\"v\"}"}`) +
		ev(`{"type":"response.output_item.added","output_index":1,"item":{"type":"message","role":"assistant","content":[]}}`) +
		ev(`{"type":"response.output_text.delta","output_index":1,"delta":"<think>hidden</think>shown"}`)
	_, sum := parseStream(t, nil, stream, protocol.Hints{})
	wantBriefs(t, sum,
		brief{protocol.KindToolCall, protocol.ChannelMemoryWrite, "memory_write", `{"k":"v"}`},
		brief{protocol.KindReasoning, protocol.ChannelReasoning, "", "hidden"},
		brief{protocol.KindCompletion, protocol.ChannelInterAgent, "", "shown"},
	)
	if sum[0].Args.Get("k").Str() != "v" || sum[0].CallID != "call_9" {
		t.Errorf("%+v", sum[0])
	}
}
