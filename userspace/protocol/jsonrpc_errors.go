package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
)

// JSON-RPC error codes.
const (
	CodeParseError     = -32700 // invalid JSON
	CodeInvalidRequest = -32600 // not a valid request object
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603
	// CodeMCPHeaderMismatch is MCP's code (2026-07-28 revision, SEP-2243) for Mcp-Method /
	// Mcp-Name headers that disagree with the body; it travels with HTTP 400.
	CodeMCPHeaderMismatch = -32020
	// CodePolicyRefusal is Meshwarden's application code for a request the policy refuses. It
	// lies outside the range JSON-RPC reserves (-32768 to -32000), where MCP and A2A keep their
	// own codes, so no client mistakes it for one of theirs. The error's data carries the
	// reason code ([RefusalData]).
	CodePolicyRefusal = -31403
)

// RefusalData is what a refused agent is told, in the data member of a JSON-RPC refusal and in
// the error object of an HTTP one: a stable reason code (the one in the audit record, such as
// "role_not_allowed" or "classification_block"), the data domain whose policy refused (when one
// was selected) and optional detail. It never holds anything the refused body held.
type RefusalData struct {
	Reason string `json:"reason"`
	Domain string `json:"domain,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// ErrorResponse returns a JSON-RPC 2.0 error response for the request id (copied as it came, any
// JSON type kept exactly; a nil or invalid id is written as null, as JSON-RPC says for a request
// whose id could not be read). data, when not nil, is marshalled as the error's data.
func ErrorResponse(id json.RawMessage, code int, message string, data any) []byte {
	b := append([]byte(nil), `{"jsonrpc":"2.0","id":`...)
	b = appendID(b, id)
	b = append(b, `,"error":{"code":`...)
	b = appendInt(b, code)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, message)
	if data != nil {
		if raw, err := json.Marshal(data); err == nil {
			b = append(append(b, `,"data":`...), raw...)
		}
	}
	return append(b, "}}"...)
}

func appendID(b []byte, id json.RawMessage) []byte {
	id = bytes.TrimSpace(id)
	if len(id) == 0 || !json.Valid(id) {
		return append(b, "null"...)
	}
	return append(b, id...)
}

func appendInt(b []byte, n int) []byte {
	raw, _ := json.Marshal(n)
	return append(b, raw...)
}

// ParseErrorResponse is the answer to a body that is not JSON (-32700, id null).
func ParseErrorResponse(detail string) []byte {
	return ErrorResponse(nil, CodeParseError, "Parse error", detailData(detail))
}

// InvalidRequestResponse is the answer to a JSON body that is not a valid JSON-RPC request
// (-32600); id is the request's id when it could be read.
func InvalidRequestResponse(id json.RawMessage, detail string) []byte {
	return ErrorResponse(id, CodeInvalidRequest, "Invalid Request", detailData(detail))
}

func detailData(detail string) any {
	if detail == "" {
		return nil
	}
	return map[string]string{"detail": detail}
}

// RefusalResponse is the JSON-RPC answer to a request the policy refuses: code
// [CodePolicyRefusal], data {"reason": reason, "detail": detail}.
func RefusalResponse(id json.RawMessage, reason, detail string) []byte {
	return PolicyRefusal(id, RefusalData{Reason: reason, Detail: detail})
}

// PolicyRefusal is the JSON-RPC answer to a request the policy refuses: code
// [CodePolicyRefusal], the reason in the message, data as given. MCP and A2A clients parse it
// when it comes with HTTP 200, as they parse any JSON-RPC error response.
func PolicyRefusal(id json.RawMessage, data RefusalData) []byte {
	return ErrorResponse(id, CodePolicyRefusal, "Refused by Meshwarden policy: "+data.Reason, data)
}

// RefusalBatchResponse answers a refused batch: one refusal per request of the batch, in order
// (notifications get no answer, as JSON-RPC says). It returns nil when the batch holds only
// notifications.
func RefusalBatchResponse(b *RPCBody, reason, detail string) []byte {
	out := []byte{'['}
	n := 0
	for i := range b.Messages {
		m := &b.Messages[i]
		if m.Type == RPCNotification || m.IsResponse() {
			continue
		}
		if n > 0 {
			out = append(out, ',')
		}
		n++
		out = append(out, RefusalResponse(m.ID, reason, detail)...)
	}
	if n == 0 {
		return nil
	}
	return append(out, ']')
}

// RPCErrorFor maps a parse error to the JSON-RPC answer it deserves: -32700 for bytes that are not
// JSON (or over a limit), -32600 for JSON that is not a valid request.
func RPCErrorFor(id json.RawMessage, err error) []byte {
	if errors.Is(err, ErrInvalidRequest) {
		return InvalidRequestResponse(id, err.Error())
	}
	return ParseErrorResponse(err.Error())
}

// HTTPRefusalBody is the JSON body of an HTTP 403 refusal, in the shape OpenAI-style clients
// parse: {"error":{"message":...,"type":"policy_refusal","code":reason,"reason":reason}}.
func HTTPRefusalBody(reason, message string) []byte {
	return httpError(message, "policy_refusal", RefusalData{Reason: reason})
}

// HTTPPolicyRefusal is the JSON body of an HTTP refusal (403, or 413 / 503 for the reasons that
// call for them): {"error":{"message":"Refused by Meshwarden policy: <reason>",
// "type":"policy_refusal","code":<reason>,"reason":<reason>,"domain":...,"detail":...}}.
// OpenAI-style clients read message, type and code; others read reason.
func HTTPPolicyRefusal(data RefusalData) []byte {
	return httpError("", "policy_refusal", data)
}

// HTTPErrorBody is the JSON body of an answer to input the enforcer could not read (a malformed
// request, headers or a body over a limit, a client too slow): the shape of HTTPPolicyRefusal
// with type "invalid_request" and the code naming the problem.
func HTTPErrorBody(code, message string) []byte {
	return httpError(message, "invalid_request", RefusalData{Reason: code})
}

func httpError(message, typ string, data RefusalData) []byte {
	if message == "" {
		message = "Refused by Meshwarden policy: " + data.Reason
	}
	b := append([]byte(nil), `{"error":{"message":`...)
	b = appendJSONString(b, message)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, typ)
	b = append(b, `,"code":`...)
	b = appendJSONString(b, data.Reason)
	b = append(b, `,"reason":`...)
	b = appendJSONString(b, data.Reason)
	if data.Domain != "" {
		b = append(b, `,"domain":`...)
		b = appendJSONString(b, data.Domain)
	}
	if data.Detail != "" {
		b = append(b, `,"detail":`...)
		b = appendJSONString(b, data.Detail)
	}
	return append(b, "}}"...)
}
