package agentleak

import (
	"net/http"
	"path"
)

// a2aPeer is the A2A endpoint of every agent of the scenario, and of the harness's own peer
// for scenarios with one agent: the receiver is the last path segment. It answers
// message/send with a short agent message that carries no data.
type a2aPeer struct{ inbox *Inbox }

func (a a2aPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, body, ok := readRPC(w, r)
	if !ok {
		return
	}
	d := Delivery{Service: "a2a", Method: r.Method, Path: r.URL.Path, RPCMethod: req.Method, Body: asRaw(body)}
	switch req.Method {
	case "message/send", "SendMessage":
		d.Answer = encodeJSON(rpcResult(req.ID, map[string]any{
			"kind":      "message",
			"messageId": "reply-" + path.Base(r.URL.Path),
			"role":      "agent",
			"parts":     []any{map[string]any{"kind": "text", "text": "Received; working on it."}},
		}))
	default:
		d.Answer = encodeJSON(rpcError(req.ID, -32601, "method not found"))
	}
	// Logged before answering: once the agent has its answer, the delivery is in the inbox.
	a.inbox.add(d)
	writeJSON(w, nil, d.Answer)
}
