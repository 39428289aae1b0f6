package agentleak

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
)

// rpcRequest is one JSON-RPC request or notification a service received.
type rpcRequest struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
}

// readRPC reads one JSON-RPC message; ok is false (and the answer written) when the body is
// not one.
func readRPC(w http.ResponseWriter, r *http.Request) (rpcRequest, []byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return rpcRequest{}, nil, false
	}
	var req rpcRequest
	if err := json.Unmarshal(body, &req); err != nil || req.Method == "" {
		writeJSON(w, nil, encodeJSON(rpcError(nil, -32700, "not a JSON-RPC request")))
		return rpcRequest{}, body, false
	}
	return req, body, true
}

func rpcResult(id json.RawMessage, result any) map[string]any {
	return map[string]any{"jsonrpc": "2.0", "id": id, "result": result}
}

func rpcError(id json.RawMessage, code int, msg string) map[string]any {
	if id == nil {
		id = json.RawMessage("null")
	}
	return map[string]any{"jsonrpc": "2.0", "id": id, "error": map[string]any{"code": code, "message": msg}}
}

// encodeJSON encodes v without HTML escaping or a trailing newline.
func encodeJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// writeJSON writes an encoded JSON answer.
func writeJSON(w http.ResponseWriter, header http.Header, body []byte) {
	for k, vs := range header {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}
