package protocol

import "strings"

// MCP methods the parser understands in detail.
const (
	MCPInitialize        = "initialize"
	MCPToolsList         = "tools/list"
	MCPToolsCall         = "tools/call"
	MCPResourcesRead     = "resources/read"
	MCPPromptsGet        = "prompts/get"
	MCPSamplingCreate    = "sampling/createMessage"
	MCPElicitationCreate = "elicitation/create"
	MCPLogMessage        = "notifications/message"
	MCPProgress          = "notifications/progress"
	MCPCancelled         = "notifications/cancelled"
)

// mcpRPC turns one MCP JSON-RPC message into labelled messages. name is the message's
// params.name when named (read once for the body's call index).
func (bb *builder) mcpRPC(m *RPC, call Call, known bool, name string, named bool) {
	switch m.Type {
	case RPCRequest, RPCNotification:
		bb.meta(m.Params.Get("_meta"))
		// Identifiers the sender made up that travel beside the JSON-RPC id: the progress
		// token a request asks progress under, echoed by the other side's progress
		// notifications, and the id of the request a cancellation names.
		bb.id("mcp.progressToken", m.Params.Get("_meta").Get("progressToken"))
		switch m.Method {
		case MCPProgress:
			bb.id("mcp.progressToken", m.Params.Get("progressToken"))
		case MCPCancelled:
			bb.id("jsonrpc.id", m.Params.Get("requestId"))
		}
		bb.mcpRequest(m, name, named)
	case RPCResult:
		bb.meta(m.Result.Get("_meta"))
		method := ""
		if known {
			method = call.Method
		}
		bb.mcpResult(method, call.Name, m.Result)
	case RPCError:
		bb.add(Message{Kind: KindToolControl, Value: m.Value.Get("error"), Text: errorText(m), Name: call.Name})
	default:
		bb.add(Message{Kind: KindToolControl, Value: m.Value})
	}
}

func (bb *builder) mcpRequest(m *RPC, name string, named bool) {
	p := m.Params
	if !named && (m.Method == MCPToolsCall || m.Method == MCPPromptsGet) {
		name = p.Get("name").Str()
	}
	msg := Message{Kind: KindToolControl, Value: rpcPayload(m), Method: m.Method}
	switch {
	case m.Method == MCPToolsCall:
		msg.Kind = KindToolCall
		msg.Name = name
		msg.Args = p.Get("arguments")
		msg.Text = bb.rawText(msg.Args)
	case m.Method == MCPInitialize:
		bb.meta(p.Get("clientInfo"))
		msg.Name = p.Get("clientInfo").Get("name").Str()
	case m.Method == MCPResourcesRead || m.Method == "resources/subscribe" || m.Method == "resources/unsubscribe":
		msg.URI = p.Get("uri").Str()
	case m.Method == MCPPromptsGet:
		msg.Name = name
		msg.Args = p.Get("arguments")
	case m.Method == MCPSamplingCreate:
		// A server asking the client's model: what it sends is the tool's output.
		for _, sm := range p.Get("messages").Elements() {
			msg.Content = append(msg.Content, bb.mcpContentList(sm.Get("content"))...)
		}
		msg.Text = strings.TrimSpace(p.Get("systemPrompt").Str() + "\n" + joinText(msg.Content))
	case m.Method == MCPElicitationCreate:
		msg.Text = p.Get("message").Str()
	case m.Method == MCPLogMessage:
		msg.Kind = KindLogRecord
		msg.Name = p.Get("logger").Str()
		if d := p.Get("data"); d.Type() == TypeString {
			msg.Text = d.Str()
		} else {
			msg.Text = string(d.Raw())
		}
	}
	bb.add(msg)
}

// mcpResult labels a result; method is the request's ("" when unknown: the result's shape
// decides).
func (bb *builder) mcpResult(method, name string, r Value) {
	msg := Message{Kind: KindToolControl, Value: r, Method: method, Name: name}
	if method == "" { // the request is not known: the result's shape says what it answers
		switch {
		case r.Get("content").Type() == TypeArray:
			method = MCPToolsCall
		case r.Get("content").Type() == TypeObject && r.Has("role"):
			method = MCPSamplingCreate // a client's answer to a server's sampling request
		case r.Get("contents").Type() == TypeArray:
			method = MCPResourcesRead
		case r.Get("tools").Type() == TypeArray:
			method = MCPToolsList
		}
	}
	switch method {
	case MCPToolsCall:
		msg.Kind = KindToolResult
		msg.Content = bb.mcpContentList(r.Get("content"))
		if sc := r.Get("structuredContent"); sc.Exists() {
			msg.Content = append(msg.Content, Content{Type: "structured", Path: bb.path(sc), Data: sc})
		}
		msg.IsError = r.Get("isError").Bool()
	case MCPResourcesRead:
		msg.Kind = KindToolResult
		for _, c := range r.Get("contents").Elements() {
			msg.Content = append(msg.Content, bb.mcpResource(c))
		}
	case MCPPromptsGet:
		for _, pm := range r.Get("messages").Elements() {
			msg.Content = append(msg.Content, bb.mcpContentList(pm.Get("content"))...)
		}
	case MCPToolsList:
		for _, t := range r.Get("tools").Elements() {
			msg.Content = append(msg.Content, Content{Type: "tool", Path: bb.path(t), Name: t.Get("name").Str(), Text: t.Get("description").Str()})
		}
	case MCPSamplingCreate:
		msg.Content = bb.mcpContentList(r.Get("content"))
		msg.Role = r.Get("role").Str()
	case MCPInitialize:
		bb.meta(r.Get("serverInfo"))
		msg.Text = r.Get("instructions").Str()
	}
	if msg.Text == "" {
		msg.Text = joinText(msg.Content)
	}
	bb.add(msg)
}

// mcpContentList reads a content array (or a single content object, as sampling messages carry).
func (bb *builder) mcpContentList(v Value) []Content {
	var out []Content
	switch v.Type() {
	case TypeArray:
		switch {
		case v.Len() == 0: // no content: nil
		case v.Len() <= cap(bb.content):
			out, bb.content = bb.content, nil // the body's room, taken once
		default:
			out = make([]Content, 0, v.Len())
		}
		for _, c := range v.Elements() {
			out = append(out, bb.mcpContent(c))
		}
	case TypeObject:
		out = append(out, bb.mcpContent(v))
	}
	return out
}

// mcpContent reads one content item: text, image, audio, resource (embedded) or resource_link.
func (bb *builder) mcpContent(v Value) Content {
	c := Content{Type: v.Get("type").Str(), Path: bb.path(v), MIMEType: v.Get("mimeType").Str()}
	switch c.Type {
	case "text":
		c.Text = bb.strText(v.Get("text"))
	case "resource":
		r := bb.mcpResource(v.Get("resource"))
		c.URI, c.Text, c.Name = r.URI, r.Text, r.Name
		if c.MIMEType == "" {
			c.MIMEType = r.MIMEType
		}
	case "resource_link":
		c.URI, c.Name = v.Get("uri").Str(), v.Get("name").Str()
		c.Text = v.Get("description").Str()
	default: // image, audio: base64 data, not decoded
		c.Data = v.Get("data")
	}
	return c
}

// mcpResource reads resource contents: {uri, mimeType, text | blob}.
func (bb *builder) mcpResource(v Value) Content {
	return Content{Type: "resource", Path: bb.path(v), URI: v.Get("uri").Str(), Name: v.Get("name").Str(),
		MIMEType: v.Get("mimeType").Str(), Text: v.Get("text").Str()}
}
