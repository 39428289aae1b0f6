package pep

import (
	"encoding/json"
	"net/http"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// JSONRPCRefusedCode is the JSON-RPC error code of every policy refusal: protocol's
// CodePolicyRefusal (-31403). It lies outside the range JSON-RPC reserves (-32768 to -32000),
// where MCP and A2A keep codes of their own (MCP's TypeScript SDK reads -32001 as a request
// timeout, A2A as TaskNotFoundError), so no client mistakes a refusal for one of those.
const JSONRPCRefusedCode = protocol.CodePolicyRefusal

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

// refusal is what a refused agent is told: the reason code and the domain, nothing the body
// held.
func (d *Decision) refusal() protocol.RefusalData {
	return protocol.RefusalData{Reason: string(d.Reason()), Domain: d.Domain}
}

// HTTPRefusal returns the status and application/json body of a refusal to a plain HTTP
// client (protocol.HTTPPolicyRefusal): {"error":{"message":"Refused by Meshwarden policy:
// role_not_allowed","type":"policy_refusal","code":"role_not_allowed","reason":
// "role_not_allowed","domain":"pii"}}.
func (d *Decision) HTTPRefusal() (status int, body []byte) {
	return d.HTTPStatus(), protocol.HTTPPolicyRefusal(d.refusal())
}

// JSONRPCRefusal returns the JSON-RPC 2.0 error response refusing the request whose id is id
// (the agent's own id, not its pseudonym; any JSON value, as encoding/json decodes it):
// {"jsonrpc":"2.0","id":...,"error":{"code":-31403,"message":"Refused by Meshwarden policy:
// role_not_allowed","data":{"reason":...,"domain":...}}}. MCP and A2A clients parse it when it
// comes with HTTP 200, as any JSON-RPC response does.
func (d *Decision) JSONRPCRefusal(id any) []byte {
	raw, err := json.Marshal(id)
	if err != nil { // an id that is not JSON: answer as to a request without one
		raw = nil
	}
	return d.JSONRPCRefusalRaw(raw)
}

// JSONRPCRefusalRaw is JSONRPCRefusal for an id exactly as it was sent.
func (d *Decision) JSONRPCRefusalRaw(id json.RawMessage) []byte {
	return protocol.PolicyRefusal(id, d.refusal())
}
