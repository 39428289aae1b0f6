package protocol

import (
	"net/http"
	"strings"
)

// detectRequestProtocol guesses the protocol of a JSON request body from its shape and path.
func detectRequestProtocol(root Value, path string, hdr http.Header) Protocol {
	switch {
	case IsJSONRPC(root):
		return ProtoJSONRPC
	case methodForREST(path) != "":
		return ProtoA2A
	case strings.HasSuffix(path, "/chat/completions"):
		return ProtoOpenAIChat
	case strings.HasSuffix(path, "/responses"):
		return ProtoOpenAIResponses
	case root.Get("messages").Type() == TypeArray && root.Has("model"):
		return ProtoOpenAIChat
	case root.Has("input") && root.Has("model"):
		return ProtoOpenAIResponses
	}
	return ProtoJSON
}

// detectRPCProtocol tells MCP from A2A from other JSON-RPC by headers, method names and, for
// responses, result shapes.
func detectRPCProtocol(rpc *RPCBody, hdr http.Header) Protocol {
	if hdr.Get("Mcp-Session-Id") != "" || hdr.Get("Mcp-Protocol-Version") != "" || hdr.Get("Mcp-Method") != "" {
		return ProtoMCP
	}
	for i := range rpc.Messages {
		m := &rpc.Messages[i]
		switch {
		case m.Method != "" && isMCPMethod(m.Method):
			return ProtoMCP
		case m.Method != "" && a2aCanonical(m.Method) != "":
			return ProtoA2A
		case m.Type == RPCResult && looksA2AResult(m.Result):
			return ProtoA2A
		case m.Type == RPCResult && looksMCPResult(m.Result):
			return ProtoMCP
		}
	}
	if hdr.Get("A2A-Version") != "" || hdr.Get("A2A-Extensions") != "" || hdr.Get("X-A2A-Extensions") != "" {
		return ProtoA2A
	}
	return ProtoJSONRPC
}

// isMCPMethod reports whether a method belongs to MCP.
func isMCPMethod(m string) bool {
	switch m {
	case "initialize", "ping":
		return true
	}
	for _, p := range [...]string{"notifications/", "tools/", "resources/", "prompts/", "sampling/",
		"elicitation/", "roots/", "completion/", "logging/", "tasks/"} {
		if strings.HasPrefix(m, p) {
			// A2A v0.3 has tasks/* methods too.
			return p != "tasks/" || a2aCanonical(m) == ""
		}
	}
	return false
}

func looksMCPResult(r Value) bool {
	return r.Get("content").Type() == TypeArray || r.Get("tools").Type() == TypeArray ||
		(r.Has("protocolVersion") && r.Has("capabilities")) || r.Get("contents").Type() == TypeArray ||
		(r.Get("content").Type() == TypeObject && r.Has("role") && r.Has("model")) // a sampling answer
}

func looksA2AResult(r Value) bool {
	switch r.Get("kind").Str() {
	case "task", "message", "status-update", "artifact-update":
		return true
	}
	return r.Has("task") || r.Has("statusUpdate") || r.Has("artifactUpdate") ||
		(r.Get("message").Type() == TypeObject && r.Get("message").Has("parts"))
}

// isAgentCardPath reports whether a path is where an A2A agent card is served.
func isAgentCardPath(path string) bool {
	return strings.HasSuffix(path, "/.well-known/agent-card.json") || strings.HasSuffix(path, "/.well-known/agent.json") ||
		strings.HasSuffix(path, "/extendedAgentCard") || strings.HasSuffix(path, "/v1/card")
}

// isMCPStreamOpen reports whether a request opens an MCP server-to-client event stream: a GET
// asking for text/event-stream on the legacy /sse endpoint, or carrying MCP headers.
func isMCPStreamOpen(req Request) bool {
	if !strings.EqualFold(req.Method, http.MethodGet) || !strings.Contains(req.Header.Get("Accept"), "text/event-stream") {
		return false
	}
	p := targetPath(req.Target)
	return strings.HasSuffix(p, "/sse") || req.Header.Get("Mcp-Session-Id") != "" || req.Header.Get("Mcp-Protocol-Version") != ""
}

// methodForREST returns the A2A method (1.0 spelling) of a request to the HTTP+JSON binding's
// path, "" for other paths: POST [/v1][/{tenant}]/message:send and message:stream,
// /tasks/{id}:cancel, /tasks/{id}:subscribe, /tasks/{id}/pushNotificationConfigs.
func methodForREST(path string) string {
	switch {
	case strings.HasSuffix(path, "/message:send"):
		return "SendMessage"
	case strings.HasSuffix(path, "/message:stream"):
		return "SendStreamingMessage"
	case strings.Contains(path, "/tasks/") && strings.HasSuffix(path, ":cancel"):
		return "CancelTask"
	case strings.Contains(path, "/tasks/") && (strings.HasSuffix(path, ":subscribe") || strings.HasSuffix(path, ":resubscribe")):
		return "SubscribeToTask"
	case strings.Contains(path, "/tasks/") && strings.HasSuffix(path, "/pushNotificationConfigs"):
		return "CreateTaskPushNotificationConfig"
	}
	return ""
}
