// Command openaigo is a test agent: a client of an OpenAI-compatible chat completions API
// written with the official OpenAI Go SDK (github.com/openai/openai-go/v3), run unchanged
// inside an agent's cgroup by the end-to-end tests.
//
//	openaigo --url BASE [--header "Name: value"]... OP...
//
// Each OP is a JSON object: {"op":"chat","user":"...","tools":true,"tool_result":{"call_id":
// "...","content":"..."},"stream":true}. A tool_result adds the assistant's tool call and the
// tool's answer (role tool) before the user's message. It prints JSON lines: per op a "result"
// (content, reasoning, tool calls, finish reason) or an "error" (HTTP status and the API error's
// code, type and message as the SDK parsed them); for a stream, one "chunk" per chunk as it
// arrives; "wire" and "http" lines (see sdkout.Wire); "done" at the end.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"

	"github.com/meshwarden/meshwarden/test/agents/sdkout"
)

type op struct {
	Op         string `json:"op"`
	User       string `json:"user"`
	Tools      bool   `json:"tools"`
	Stream     bool   `json:"stream"`
	ToolResult *struct {
		CallID  string `json:"call_id"`
		Content string `json:"content"`
	} `json:"tool_result"`
}

func main() {
	url := flag.String("url", "", "the API base URL, e.g. http://10.0.0.8:8000/v1")
	var headers sdkout.Headers
	flag.Var(&headers, "header", "a header every request carries (repeatable)")
	flag.Parse()
	out := sdkout.NewPrinter()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := openai.NewClient(
		option.WithBaseURL(*url),
		option.WithAPIKey("sk-test-not-a-key"),
		option.WithMaxRetries(0),
		option.WithHTTPClient(&http.Client{Transport: &sdkout.Wire{Base: http.DefaultTransport, Headers: headers, Out: out}}),
	)
	for _, raw := range sdkout.Ops(flag.Args()) {
		var o op
		if err := json.Unmarshal([]byte(raw), &o); err != nil {
			out.Fail("op %q: %v", raw, err)
		}
		params := chatParams(o)
		if o.Stream {
			stream(ctx, client, params, out)
			continue
		}
		res, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			out.Event("error", map[string]any{"op": "chat", "error": describe(err)})
			continue
		}
		out.Event("result", summary(res.Choices[0].Message, string(res.Choices[0].FinishReason)))
	}
	out.Event("done", nil)
}

func chatParams(o op) openai.ChatCompletionNewParams {
	p := openai.ChatCompletionNewParams{Model: "mw-test-model"}
	p.Messages = append(p.Messages, openai.SystemMessage("You are a careful assistant."))
	if tr := o.ToolResult; tr != nil {
		call := openai.ChatCompletionMessageParamUnion{OfAssistant: &openai.ChatCompletionAssistantMessageParam{
			ToolCalls: []openai.ChatCompletionMessageToolCallUnionParam{{OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
				ID: tr.CallID, Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: "lookup_customer", Arguments: `{"customer_id":"c-42"}`},
			}}},
		}}
		p.Messages = append(p.Messages, call, openai.ToolMessage(tr.Content, tr.CallID))
	}
	if o.User != "" {
		p.Messages = append(p.Messages, openai.UserMessage(o.User))
	}
	if o.Tools {
		p.Tools = []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:        "lookup_customer",
			Description: openai.String("Look a customer up by id"),
			Parameters:  shared.FunctionParameters{"type": "object", "properties": map[string]any{"customer_id": map[string]any{"type": "string"}}},
		})}
	}
	return p
}

// stream reads a streamed completion chunk by chunk, printing each as it arrives.
func stream(ctx context.Context, client openai.Client, params openai.ChatCompletionNewParams, out *sdkout.Printer) {
	s := client.Chat.Completions.NewStreaming(ctx, params)
	defer s.Close()
	var acc openai.ChatCompletionAccumulator
	reasoning := ""
	for s.Next() {
		chunk := s.Current()
		acc.AddChunk(chunk)
		ev := map[string]any{}
		if len(chunk.Choices) > 0 {
			d := chunk.Choices[0].Delta
			ev["content"] = d.Content
			if f, ok := d.JSON.ExtraFields["reasoning_content"]; ok {
				var r string
				_ = json.Unmarshal([]byte(f.Raw()), &r)
				ev["reasoning"] = r
				reasoning += r
			}
		}
		out.Event("chunk", ev)
	}
	if err := s.Err(); err != nil {
		out.Event("error", map[string]any{"op": "stream", "error": describe(err)})
		return
	}
	if len(acc.Choices) == 0 {
		out.Event("error", map[string]any{"op": "stream", "error": map[string]any{"message": "no choices"}})
		return
	}
	res := summary(acc.Choices[0].Message, string(acc.Choices[0].FinishReason))
	res["op"], res["reasoning"] = "stream", reasoning
	out.Event("result", res)
}

func summary(m openai.ChatCompletionMessage, finish string) map[string]any {
	res := map[string]any{"op": "chat", "content": m.Content, "finish_reason": finish}
	if f, ok := m.JSON.ExtraFields["reasoning_content"]; ok {
		var r string
		_ = json.Unmarshal([]byte(f.Raw()), &r)
		res["reasoning"] = r
	}
	var calls []map[string]any
	for _, tc := range m.ToolCalls {
		calls = append(calls, map[string]any{"id": tc.ID, "name": tc.Function.Name, "arguments": tc.Function.Arguments})
	}
	res["tool_calls"] = calls
	return res
}

// describe is an error as the SDK reported it.
func describe(err error) map[string]any {
	d := map[string]any{"message": err.Error()}
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		d["status"] = apiErr.StatusCode
		d["code"] = apiErr.Code
		d["type"] = apiErr.Type
		d["apiMessage"] = apiErr.Message
		d["raw"] = json.RawMessage(apiErr.RawJSON())
	}
	var se *ssestream.StreamError
	if errors.As(err, &se) {
		d["streamError"] = se.Message
		d["raw"] = json.RawMessage(se.Event.Data)
	}
	return d
}
