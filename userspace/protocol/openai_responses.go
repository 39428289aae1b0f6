package protocol

import "strings"

// responsesRequest reads a Responses API request: instructions, and input (a string, or items).
func (bb *builder) responsesRequest(root Value) {
	if in := root.Get("instructions"); in.Type() == TypeString {
		bb.add(Message{Kind: KindPrompt, Value: in, Role: "system", Text: in.Str()})
	}
	switch in := root.Get("input"); in.Type() {
	case TypeString:
		bb.add(Message{Kind: KindPrompt, Value: in, Role: "user", Text: in.Str(),
			Content: []Content{{Type: "input_text", Path: in.Path(), Text: in.Str()}}})
	case TypeArray:
		for _, it := range in.Elements() {
			bb.responsesItem(it, true, false)
		}
	}
}

// responsesResponse reads a Response object: its output items.
func (bb *builder) responsesResponse(root Value) {
	for _, it := range root.Get("output").Elements() {
		bb.responsesItem(it, false, false)
	}
	if e := root.Get("error"); e.Type() == TypeObject {
		bb.add(Message{Kind: KindCompletion, Value: e, IsError: true, Text: e.Get("message").Str()})
	}
}

// responsesItem reads one input or output item. inRequest says it is conversation state sent to
// the model (an assistant message there is history, not a completion); partial marks items from
// stream events that are not yet complete.
func (bb *builder) responsesItem(it Value, inRequest, partial bool) {
	start := len(bb.b.Messages)
	defer func() {
		for i := start; i < len(bb.b.Messages); i++ {
			bb.b.Messages[i].Partial = partial
		}
	}()
	typ := it.Get("type").Str()
	if typ == "" && it.Has("role") {
		typ = "message"
	}
	switch typ {
	case "message":
		role := it.Get("role").Str()
		kind := KindPrompt
		if role == "assistant" && !inRequest {
			kind = KindCompletion
		}
		cs := chatContent(it.Get("content"))
		text := joinText(cs)
		if role == "assistant" {
			think, answer := SplitThink(text)
			if think != "" {
				bb.add(Message{Kind: KindReasoning, Value: it.Get("content"), Role: role, Text: think})
			}
			text = answer
		}
		bb.add(Message{Kind: kind, Value: it, Role: role, Content: cs, Text: text})
	case "reasoning":
		var cs []Content
		for _, s := range it.Get("summary").Elements() {
			cs = append(cs, contentPart(s))
		}
		for _, s := range it.Get("content").Elements() {
			cs = append(cs, contentPart(s))
		}
		bb.add(Message{Kind: KindReasoning, Value: it, Role: "assistant", Content: cs, Text: joinText(cs)})
	case "function_call":
		m := toolCallMessage(it, it.Get("name").Str(), it.Get("call_id").Str(), it.Get("arguments"))
		bb.add(m)
	case "mcp_call", "mcp_approval_request":
		m := toolCallMessage(it, it.Get("name").Str(), it.Get("id").Str(), it.Get("arguments"))
		bb.add(m)
		if out := it.Get("output"); out.Exists() && out.Type() != TypeNull {
			bb.add(Message{Kind: KindToolResult, Value: out, Name: m.Name, CallID: m.CallID, Text: outputText(out)})
		}
		if e := it.Get("error"); e.Exists() && e.Type() != TypeNull {
			bb.add(Message{Kind: KindToolResult, Value: e, Name: m.Name, CallID: m.CallID, IsError: true, Text: outputText(e)})
		}
	case "function_call_output", "custom_tool_call_output", "computer_call_output", "local_shell_call_output", "shell_call_output", "apply_patch_call_output":
		out := it.Get("output")
		bb.add(Message{Kind: KindToolResult, Value: it, Role: "tool", CallID: it.Get("call_id").Str(),
			Content: chatContent(out), Text: outputText(out)})
	case "custom_tool_call":
		bb.add(Message{Kind: KindToolCall, Value: it, Name: it.Get("name").Str(), CallID: it.Get("call_id").Str(),
			Role: "assistant", Text: it.Get("input").Str()})
	case "mcp_list_tools":
		var cs []Content
		for _, t := range it.Get("tools").Elements() {
			cs = append(cs, Content{Type: "tool", Path: t.Path(), Name: t.Get("name").Str(), Text: t.Get("description").Str()})
		}
		bb.add(Message{Kind: KindToolResult, Value: it, Name: it.Get("server_label").Str(), Content: cs, Text: joinText(cs)})
	case "web_search_call", "file_search_call", "computer_call", "code_interpreter_call", "image_generation_call", "local_shell_call", "shell_call", "apply_patch_call":
		bb.add(Message{Kind: KindToolCall, Value: it, Name: typ, CallID: firstStr(it.Get("call_id"), it.Get("id")), Role: "assistant"})
	case "item_reference":
	default:
		kind := KindPrompt
		if !inRequest {
			kind = KindCompletion
		}
		bb.add(Message{Kind: kind, Value: it})
	}
}

// outputText is the readable text of a tool output: a string, or the text of content parts.
func outputText(v Value) string {
	switch v.Type() {
	case TypeString:
		return v.Str()
	case TypeArray:
		return joinText(chatContent(v))
	case TypeObject:
		if m := v.Get("message"); m.Type() == TypeString {
			return m.Str()
		}
	}
	return strings.TrimSpace(string(v.Raw()))
}
