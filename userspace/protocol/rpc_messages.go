package protocol

// rpcMessages turns each JSON-RPC message of the body into labelled messages of its protocol.
// calls finds the requests that responses answer (nil: unknown).
func (bb *builder) rpcMessages(calls CallLookup) {
	bb.b.indexCalls()
	for i := range bb.b.RPC.Messages {
		m := &bb.b.RPC.Messages[i]
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
			bb.mcpRPC(m, call, known)
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
