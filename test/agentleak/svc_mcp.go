package agentleak

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path"

	"github.com/meshwarden/meshwarden/test/agentleak/wire"
)

// mcpServer is an MCP server (streamable HTTP, JSON answers) offering one tool, named by the
// last path segment. tools/call answers with the run's records shaped by its behaviour (the
// one named by the record_index argument, else all): the whole records when the run is leaky
// (a tool that returns more than the task may use), the allowed fields when it is compliant.
type mcpServer struct{ inbox *Inbox }

func (m mcpServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, body, ok := readRPC(w, r)
	if !ok {
		return
	}
	tool := path.Base(r.URL.Path)
	d := Delivery{Service: "mcp", Method: r.Method, Path: r.URL.Path, RPCMethod: req.Method, Body: asRaw(body)}
	if req.ID == nil { // a notification
		m.inbox.add(d)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	switch req.Method {
	case "initialize":
		d.Answer = encodeJSON(rpcResult(req.ID, map[string]any{
			"protocolVersion": "2025-06-18",
			"capabilities":    map[string]any{"tools": map[string]any{}},
			"serverInfo":      map[string]any{"name": "agentleak-" + tool, "version": "1"},
		}))
	case "tools/call":
		d.Tool, d.Answer = m.call(r.URL.Path, tool, req)
	default:
		d.Answer = encodeJSON(rpcError(req.ID, -32601, "method not found"))
	}
	// Logged before answering: once the agent has its answer, the delivery is in the inbox.
	m.inbox.add(d)
	writeJSON(w, http.Header{"Mcp-Session-Id": {"session-" + runOf(r.URL.Path) + "-" + tool}}, d.Answer)
}

// call answers a tools/call; it returns the tool named and the answer.
func (m mcpServer) call(urlPath, tool string, req rpcRequest) (string, []byte) {
	var p struct {
		Name      string `json:"name"`
		Arguments struct {
			Index *int `json:"record_index"`
		} `json:"arguments"`
	}
	json.Unmarshal(req.Params, &p)
	cfg, known := m.inbox.config(urlPath)
	switch {
	case p.Name != tool:
		return p.Name, encodeJSON(rpcError(req.ID, -32602, "unknown tool"))
	case !known:
		return p.Name, encodeJSON(rpcError(req.ID, -32603, "no run"))
	}
	recs := []any{}
	for _, s := range wire.Shape(cfg.Records, cfg.Allowed, cfg.Behaviour) {
		if p.Arguments.Index == nil || *p.Arguments.Index == s.Index {
			recs = append(recs, s.Record)
		}
	}
	return p.Name, encodeJSON(rpcResult(req.ID, map[string]any{
		"content":           []any{map[string]any{"type": "text", "text": fmt.Sprintf("%s found %d record(s).", tool, len(recs))}},
		"structuredContent": map[string]any{"records": recs},
		"isError":           false,
	}))
}
