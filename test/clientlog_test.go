package test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/test/lab"
)

// clientEvent is one JSON line an SDK test client printed: the Go SDK agents (MCP, OpenAI)
// and the Node ones (MCP TypeScript, A2A JS) share this log format.
type clientEvent struct {
	T         int64             `json:"t"` // ms since the client started
	Event     string            `json:"event"`
	Op        string            `json:"op"`
	Name      string            `json:"name"`
	Dir       string            `json:"dir"`
	Status    int               `json:"status"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Message   json.RawMessage   `json:"message"`
	Result    json.RawMessage   `json:"result"`
	Error     *clientError      `json:"error"`
	Progress  float64           `json:"progress"`
	SessionID string            `json:"sessionId"`
	Protocol  string            `json:"protocolVersion"` // MCP (Go agents)
	Proto     string            `json:"proto"`           // A2A protocol version (Node agents)
	// OpenAI agent
	Content   string           `json:"content"`
	Reasoning string           `json:"reasoning"`
	ToolCalls []map[string]any `json:"tool_calls"`
	Finish    string           `json:"finish_reason"`
	a2aSummary
	Raw string `json:"-"`
}

// clientError is an error a client's SDK raised, as the client printed it.
type clientError struct {
	Message string          `json:"message"`
	Code    json.RawMessage `json:"code"` // the JSON-RPC code (McpError, Go SDKs)
	Data    json.RawMessage `json:"data"`
	// Go agents
	RPCMessage string          `json:"rpcMessage"`
	Status     int             `json:"status"`
	Type       string          `json:"type"`
	APIMessage string          `json:"apiMessage"`
	Stream     string          `json:"streamError"`
	RawBody    json.RawMessage `json:"raw"`
	// Node agents
	Class        string          `json:"class"`
	Name         string          `json:"name"`
	EnvelopeCode json.RawMessage `json:"envelopeCode"` // the A2A SDK's JSON-RPC code
	SDKReason    string          `json:"sdkReason"`    // the A2A SDK's classification (TASK_NOT_FOUND, ...)
	Cause        *clientError    `json:"cause"`
}

// clientRun is a finished client process and the events it printed.
type clientRun struct {
	lab.Result
	Events []clientEvent
}

func parseClientRun(res lab.Result) *clientRun {
	r := &clientRun{Result: res}
	sc := bufio.NewScanner(strings.NewReader(res.Out))
	sc.Buffer(make([]byte, 1<<16), 1<<22)
	for sc.Scan() {
		var e clientEvent
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Event != "" {
			e.Raw = sc.Text()
			r.Events = append(r.Events, e)
		}
	}
	return r
}

func (r *clientRun) all(event string) []clientEvent {
	var out []clientEvent
	for _, e := range r.Events {
		if e.Event == event {
			out = append(out, e)
		}
	}
	return out
}

func (r *clientRun) last(event string) *clientEvent {
	all := r.all(event)
	if len(all) == 0 {
		return nil
	}
	return &all[len(all)-1]
}

// outcomes returns the result and error events of operation op (and tool or name, when
// given), in order.
func (r *clientRun) outcomes(op, name string) []clientEvent {
	var out []clientEvent
	for _, e := range r.Events {
		if (e.Event == "result" || e.Event == "error") && e.Op == op && (name == "" || e.Name == name) {
			out = append(out, e)
		}
	}
	return out
}

// result returns the one successful outcome of op, failing the test otherwise.
func (r *clientRun) result(t *testing.T, op, name string) clientEvent {
	t.Helper()
	got := r.outcomes(op, name)
	if len(got) != 1 || got[0].Event != "result" {
		t.Fatalf("%s %s: want one result, got %d outcomes: %s\nclient output:\n%s", op, name, len(got), rawOf(got), clip(r.Out))
	}
	return got[0]
}

// refused returns the one error outcome of op, failing the test when op succeeded.
func (r *clientRun) refused(t *testing.T, op, name string) clientError {
	t.Helper()
	got := r.outcomes(op, name)
	if len(got) != 1 || got[0].Event != "error" || got[0].Error == nil {
		t.Fatalf("%s %s: want the SDK to raise a refusal, got %s\nclient output:\n%s", op, name, rawOf(got), clip(r.Out))
	}
	return *got[0].Error
}

func rawOf(es []clientEvent) string {
	var out []string
	for _, e := range es {
		out = append(out, e.Raw)
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// clip shortens a client's output for a failure message.
func clip(s string) string {
	const max = 12000
	if len(s) > max {
		return s[:max] + fmt.Sprintf("... (%d more bytes)", len(s)-max)
	}
	return s
}

// jsonrpcIDs returns the ids of the JSON-RPC requests (or responses, with responses true) in
// a body: one message or a batch.
func jsonrpcIDs(body json.RawMessage, responses bool) []string {
	var v any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if len(body) == 0 || d.Decode(&v) != nil {
		return nil
	}
	msgs, ok := v.([]any)
	if !ok {
		msgs = []any{v}
	}
	var out []string
	for _, m := range msgs {
		o, ok := m.(map[string]any)
		if !ok || o["jsonrpc"] != "2.0" {
			continue
		}
		id, has := o["id"]
		_, isResp := o["result"]
		_, isErr := o["error"]
		if !has || id == nil || (isResp || isErr) != responses {
			continue
		}
		out = append(out, fmt.Sprint(id))
	}
	return out
}
