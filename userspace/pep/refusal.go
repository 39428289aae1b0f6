package pep

import (
	"encoding/json"
	"net/http"
)

// JSONRPCRefusedCode is the JSON-RPC error code of a refusal: in the range JSON-RPC 2.0
// leaves to implementations (-32000 to -32099).
const JSONRPCRefusedCode = -32001

// refusal is what a refused agent is told: the reason code and the domain, nothing the body
// held.
type refusal struct {
	Reason string `json:"reason"`
	Domain string `json:"domain,omitempty"`
}

// HTTPStatus returns the HTTP status of a refusal: 413 for body_too_large, 503 when the tier
// could not be applied, 403 for every other reason.
func (d *Decision) HTTPStatus() int {
	switch d.Reason() {
	case ReasonBodyTooLarge:
		return http.StatusRequestEntityTooLarge
	case ReasonTierUnavailable, ReasonTierFailed:
		return http.StatusServiceUnavailable
	}
	return http.StatusForbidden
}

// HTTPRefusal returns the status and application/json body of a refusal to a plain HTTP
// client: {"error":{"type":"meshwarden_refusal","reason":"role_not_allowed","domain":"pii"}}.
func (d *Decision) HTTPRefusal() (status int, body []byte) {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"type": "meshwarden_refusal", "reason": string(d.Reason()), "domain": d.Domain,
	}})
	return d.HTTPStatus(), b
}

// JSONRPCRefusal returns the JSON-RPC 2.0 error response refusing the request whose id is id
// (the agent's own id, not its pseudonym): {"jsonrpc":"2.0","id":...,"error":{"code":-32001,
// "message":"refused by policy: role_not_allowed","data":{"reason":...,"domain":...}}}. MCP
// and A2A clients parse it when it comes with HTTP 200, as any JSON-RPC response does.
func (d *Decision) JSONRPCRefusal(id any) []byte {
	b, err := json.Marshal(map[string]any{
		"jsonrpc": "2.0",
		"id":      id,
		"error": map[string]any{
			"code":    JSONRPCRefusedCode,
			"message": "refused by policy: " + string(d.Reason()),
			"data":    refusal{Reason: string(d.Reason()), Domain: d.Domain},
		},
	})
	if err != nil { // an id that is not JSON: answer as to a request without one
		b, _ = json.Marshal(map[string]any{"jsonrpc": "2.0", "id": nil, "error": map[string]any{
			"code": JSONRPCRefusedCode, "message": "refused by policy: " + string(d.Reason()),
		}})
	}
	return b
}
