package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// llmServer is an OpenAI-compatible chat completions server on a loopback address outside every
// agent cgroup. What it answers depends on the last user message:
//
//   - "use the tool": a tool call (lookup_customer, arguments holding an SSN) with reasoning;
//   - "leak": an answer holding a canary;
//   - otherwise: an answer quoting an SSN, with reasoning;
//
// and, after a tool's answer (a role tool message), a final answer. With "stream": true it
// sends the answer as chunks llmChunkGap apart (reasoning_content, then content), then [DONE].
type llmServer struct {
	Addr string
	http recorder
}

// llmChunkGap is how far apart the streamed chunks are sent.
const llmChunkGap = 250 * time.Millisecond

func startLLMServer(t *testing.T, ip string) *llmServer {
	t.Helper()
	s := &llmServer{}
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	hs := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.http.add(received{Method: r.Method, URL: r.URL.String(), Header: r.Header.Clone(), Body: body})
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Stream   bool `json:"stream"`
			Messages []struct {
				Role    string `json:"role"`
				Content any    `json:"content"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		last, afterTool := "", false
		for _, m := range req.Messages {
			switch m.Role {
			case "user":
				last, _ = m.Content.(string)
			case "tool":
				afterTool = true
			}
		}
		w.Header().Set("X-Request-Id", "req_"+goTraceID)
		w.Header().Set("Openai-Processing-Ms", "12")
		reasoning := "The user asked about the customer whose ssn is " + goSSN + "."
		content := "The customer with ssn " + goSSN + " is on the gold plan."
		switch {
		case afterTool:
			reasoning, content = "", "Customer c-42 is on the gold plan."
		case strings.Contains(last, "leak"):
			content = "Here it is: CANARY_9e1d44 as asked."
		}
		if req.Stream {
			streamChat(w, r, reasoning, content)
			return
		}
		msg := map[string]any{"role": "assistant", "content": content}
		finish := "stop"
		if reasoning != "" {
			msg["reasoning_content"] = reasoning
		}
		if strings.Contains(last, "use the tool") {
			msg["content"], finish = nil, "tool_calls"
			msg["tool_calls"] = []any{map[string]any{"id": "call_lookup_1", "type": "function", "function": map[string]any{
				"name": "lookup_customer", "arguments": `{"customer_id":"c-42","ssn":"` + goSSN + `"}`}}}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "chatcmpl-mw1", "object": "chat.completion", "created": 1760000000, "model": "mw-test-model",
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
			"usage":   map[string]any{"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21}})
	})}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	return s
}

// streamChat sends a chat completion as chunks: the role, the reasoning and the content word
// by word (each whole: a detector match never straddles two chunks), a finish chunk, [DONE].
func streamChat(w http.ResponseWriter, r *http.Request, reasoning, content string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	send := func(delta map[string]any, finish any) bool {
		var b bytes.Buffer
		_ = json.NewEncoder(&b).Encode(map[string]any{"id": "chatcmpl-mw2", "object": "chat.completion.chunk", "created": 1760000000, "model": "mw-test-model",
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}})
		fmt.Fprintf(w, "data: %s\n\n", bytes.TrimSpace(b.Bytes()))
		w.(http.Flusher).Flush()
		select {
		case <-time.After(llmChunkGap):
			return true
		case <-r.Context().Done():
			return false
		}
	}
	if !send(map[string]any{"role": "assistant", "content": ""}, nil) {
		return
	}
	for _, part := range splitKeep(reasoning) {
		if !send(map[string]any{"reasoning_content": part}, nil) {
			return
		}
	}
	for _, part := range splitKeep(content) {
		if !send(map[string]any{"content": part}, nil) {
			return
		}
	}
	if !send(map[string]any{}, "stop") {
		return
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// splitKeep cuts s into three pieces at spaces, never inside a word.
func splitKeep(s string) []string {
	if s == "" {
		return nil
	}
	words := strings.SplitAfter(s, " ")
	n := (len(words) + 2) / 3
	var out []string
	for i := 0; i < len(words); i += n {
		out = append(out, strings.Join(words[i:min(i+n, len(words))], ""))
	}
	return out
}
