package protocol

// rpcMessages turns each JSON-RPC message of the body into labelled messages of its protocol.
// calls find the requests that responses answer, tried in turn (nil: unknown). They are a
// lookups, not a CallLookup, so that the caller's list needs no allocation.
func (bb *builder) rpcMessages(calls lookups) {
	for i := range bb.b.RPC.Messages {
		m := &bb.b.RPC.Messages[i]
		// The requests are indexed as they come: building the messages of this body
		// looks calls up only in other bodies (calls), never in this one.
		name, named := "", false
		if m.Type == RPCRequest {
			name, named = m.Params.Get("name").Str(), true
			bb.b.indexCall(m, name)
		}
		if m.ID != nil {
			bb.id("jsonrpc.id", m.Value.Get("id"))
		}
		var call Call
		known := false
		if m.IsResponse() && calls != nil {
			call, known = calls.LookupCall(m.ID)
		}
		start := len(bb.b.Messages)
		switch bb.b.Protocol {
		case ProtoMCP:
			bb.mcpRPC(m, call, known, name, named)
		case ProtoA2A:
			bb.a2aRPC(m, call, known)
		default:
			bb.add(Message{Kind: KindBody, Value: rpcPayload(m), Method: m.Method})
		}
		for j := start; j < len(bb.b.Messages); j++ {
			mm := &bb.b.Messages[j]
			mm.ID = m.ID
			if mm.Method == "" {
				mm.Method = m.Method
				if known {
					mm.Method = call.Method
				}
			}
			if m.Type == RPCError {
				mm.IsError = true
			}
		}
	}
}

// rpcPayload is the value that carries a JSON-RPC message's meaning: params, result, error, or
// the whole message when it is invalid.
func rpcPayload(m *RPC) Value {
	switch m.Type {
	case RPCRequest, RPCNotification:
		if m.Params.Exists() {
			return m.Params
		}
	case RPCResult:
		return m.Result
	case RPCError:
		return m.Value.Get("error")
	}
	return m.Value
}

// errorText is the readable text of a JSON-RPC error.
func errorText(m *RPC) string {
	if m.Error == nil {
		return ""
	}
	if m.Error.Data.Type() == TypeString {
		return m.Error.Message + "\n" + m.Error.Data.Str()
	}
	return m.Error.Message
}
