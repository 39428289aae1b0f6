package main

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/meshwarden/meshwarden/test/agentleak/wire"
)

// rpcCall is one JSON-RPC message the agent sends: a request (ID set) or a notification.
type rpcCall struct {
	ID     any    `json:"id,omitempty"`
	Method string `json:"method"`
	Params any    `json:"params,omitempty"`
}

// rpcSent describes where a call goes and how it is logged.
type rpcSent struct {
	url, path, receiver string
	sentChannel         string // channel of the call
	answerChannel       string // channel of its answer
	tool                string
	header              http.Header
}

// rpc sends one JSON-RPC message over HTTP POST, logs it and its answer (a JSON body, or the
// first event of an event stream), and returns the answer's result object and headers.
func (a *agent) rpc(ctx context.Context, to rpcSent, call rpcCall) (json.RawMessage, http.Header) {
	msg := map[string]any{"jsonrpc": "2.0", "method": call.Method}
	if call.ID != nil {
		msg["id"] = call.ID
	}
	if call.Params != nil {
		msg["params"] = call.Params
	}
	body, err := marshal(msg)
	e := wire.Entry{Direction: wire.Sent, Channel: to.sentChannel, Receiver: to.receiver, Method: http.MethodPost,
		Path: to.path, RPCMethod: call.Method, Tool: to.tool, Body: body}
	if err != nil {
		e.Error = err.Error()
		a.log.add(e)
		return nil, nil
	}
	x := a.do(ctx, http.MethodPost, to.url, body, to.header)
	e.Status, e.Micros = x.status, x.micros
	if x.err != nil {
		e.Error = x.err.Error()
	}
	a.log.add(e)
	if call.ID == nil || x.err != nil || len(x.body) == 0 {
		return nil, x.header
	}
	answer := x.body
	if isEventStream(x.header) {
		answer = firstEventData(x.body)
	}
	a.log.add(wire.Entry{Direction: wire.Received, Channel: to.answerChannel, Receiver: a.plan.Agent, Method: http.MethodPost,
		Path: to.path, RPCMethod: call.Method, Tool: to.tool, Status: x.status, Body: asJSON(answer)})
	var resp struct {
		Result json.RawMessage `json:"result"`
	}
	if json.Unmarshal(answer, &resp) != nil {
		return nil, x.header
	}
	return resp.Result, x.header
}

func isEventStream(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && mt == "text/event-stream"
}

// firstEventData returns the data of the first event of an event stream.
func firstEventData(stream []byte) []byte {
	var data []string
	for _, line := range strings.Split(string(stream), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" && len(data) > 0 {
			break
		}
		if v, ok := strings.CutPrefix(line, "data:"); ok {
			data = append(data, strings.TrimPrefix(v, " "))
		}
	}
	return []byte(strings.Join(data, "\n"))
}

// callID names a JSON-RPC request of the agent's run.
func (a *agent) callID(kind string, n int) string {
	return fmt.Sprintf("%s-%s-%d", a.plan.Agent, kind, n)
}
