package protocol

import "strings"

// reasoningFields are the members of a chat message (or delta) in which servers return
// reasoning: reasoning_content (DeepSeek, vLLM, Qwen), reasoning (OpenRouter, Ollama, Groq),
// reasoning_details (OpenRouter), thinking.
var reasoningFields = [...]string{"reasoning_content", "reasoning", "reasoning_details", "thinking"}

// chatRequest reads a chat completions request: one or more messages for each entry of
// "messages".
func (bb *builder) chatRequest(root Value) {
	for _, m := range root.Get("messages").Elements() {
		role := m.Get("role").Str()
		switch role {
		case "assistant":
			bb.chatAssistant(m, KindPrompt)
		case "tool", "function":
			cs := chatContent(m.Get("content"))
			bb.add(Message{Kind: KindToolResult, Value: m, Role: "tool", CallID: m.Get("tool_call_id").Str(),
				Name: m.Get("name").Str(), Content: cs, Text: joinText(cs)})
		default: // system, developer, user, and roles we do not know
			cs := chatContent(m.Get("content"))
			bb.add(Message{Kind: KindPrompt, Value: m, Role: role, Name: m.Get("name").Str(), Content: cs, Text: joinText(cs)})
		}
	}
}

// chatResponse reads a chat completion: the message of each choice.
func (bb *builder) chatResponse(root Value) {
	for _, c := range root.Get("choices").Elements() {
		if m := c.Get("message"); m.Type() == TypeObject {
			bb.chatAssistant(m, KindCompletion)
		}
	}
}

// chatAssistant reads an assistant message: its reasoning fields, the <think> blocks of its
// content, the rest of its content (contentKind: history in a request, completion in a response),
// its refusal and its tool calls.
func (bb *builder) chatAssistant(m Value, contentKind Kind) {
	for _, f := range reasoningFields {
		if r := m.Get(f); r.Exists() && r.Type() != TypeNull && string(r.Raw()) != `""` {
			if r.Type() == TypeObject && f == "reasoning" && !r.Has("content") && !r.Has("text") && !r.Has("summary") {
				continue // a request option such as {"effort": "low"}, not reasoning text
			}
			bb.add(Message{Kind: KindReasoning, Value: r, Role: "assistant", Text: reasoningText(r)})
		}
	}
	content := m.Get("content")
	if content.Exists() && content.Type() != TypeNull {
		cs := chatContent(content)
		think, answer := SplitThink(joinText(cs))
		if think != "" {
			bb.add(Message{Kind: KindReasoning, Value: content, Role: "assistant", Text: think})
		}
		bb.add(Message{Kind: contentKind, Value: content, Role: "assistant", Name: m.Get("name").Str(), Content: cs, Text: answer})
	}
	if r := m.Get("refusal"); r.Type() == TypeString && r.Str() != "" {
		bb.add(Message{Kind: contentKind, Value: r, Role: "assistant", Text: r.Str(),
			Content: []Content{{Type: "refusal", Path: r.Path(), Text: r.Str()}}})
	}
	for _, tc := range m.Get("tool_calls").Elements() {
		bb.chatToolCall(tc)
	}
	if fc := m.Get("function_call"); fc.Type() == TypeObject { // the legacy functions API
		bb.add(toolCallMessage(fc, fc.Get("name").Str(), "", fc.Get("arguments")))
	}
}

// chatToolCall reads one entry of tool_calls: a function call (arguments a JSON text in a
// string) or a custom tool call (free-form input).
func (bb *builder) chatToolCall(tc Value) {
	if f := tc.Get("function"); f.Type() == TypeObject {
		bb.add(toolCallMessage(tc, f.Get("name").Str(), tc.Get("id").Str(), f.Get("arguments")))
		return
	}
	if c := tc.Get("custom"); c.Type() == TypeObject {
		bb.add(Message{Kind: KindToolCall, Value: tc, Name: c.Get("name").Str(), CallID: tc.Get("id").Str(),
			Role: "assistant", Text: c.Get("input").Str()})
		return
	}
	bb.add(Message{Kind: KindToolCall, Value: tc, CallID: tc.Get("id").Str(), Role: "assistant"})
}

// toolCallMessage builds a tool call whose arguments are JSON held in a string: the string is
// embedded so that walks and edits reach its values (arguments that are not JSON stay a string).
func toolCallMessage(v Value, name, callID string, args Value) Message {
	m := Message{Kind: KindToolCall, Value: v, Name: name, CallID: callID, Role: "assistant"}
	switch args.Type() {
	case TypeString:
		m.Text = args.Str()
		if root, err := args.Embed(); err == nil {
			m.Args = root
		}
	case TypeObject:
		m.Args, m.Text = args, string(args.Raw())
	}
	return m
}

// chatContent reads chat content: a string, or an array of parts (text, image_url, input_audio,
// file, refusal).
func chatContent(v Value) []Content {
	switch v.Type() {
	case TypeString:
		return []Content{{Type: "text", Path: v.Path(), Text: v.Str()}}
	case TypeArray:
		var out []Content
		for _, p := range v.Elements() {
			out = append(out, contentPart(p))
		}
		return out
	}
	return nil
}

// contentPart reads one content part of a chat or Responses message.
func contentPart(p Value) Content {
	if p.Type() == TypeString {
		return Content{Type: "text", Path: p.Path(), Text: p.Str()}
	}
	c := Content{Type: p.Get("type").Str(), Path: p.Path()}
	switch c.Type {
	case "text", "input_text", "output_text", "summary_text", "reasoning_text":
		c.Text = p.Get("text").Str()
	case "refusal":
		c.Text = p.Get("refusal").Str()
	case "image_url":
		iu := p.Get("image_url")
		c.URI = firstStr(iu.Get("url"), iu)
	case "input_image":
		c.URI = firstStr(p.Get("image_url"), p.Get("file_id"))
	case "input_audio":
		c.Data, c.MIMEType = p.Get("input_audio").Get("data"), p.Get("input_audio").Get("format").Str()
	case "file":
		f := p.Get("file")
		c.Name, c.URI, c.Data = f.Get("filename").Str(), f.Get("file_id").Str(), f.Get("file_data")
	case "input_file":
		c.Name, c.URI, c.Data = p.Get("filename").Str(), firstStr(p.Get("file_url"), p.Get("file_id")), p.Get("file_data")
	default:
		c.Text = p.Get("text").Str()
	}
	return c
}

// reasoningText is the readable text of a reasoning value: a string, or the texts inside
// reasoning_details-style arrays and objects.
func reasoningText(v Value) string {
	if v.Type() == TypeString {
		return v.Str()
	}
	var parts []string
	for p, s := range v.Strings() {
		switch p.Last() {
		case "text", "summary", "content", "thinking":
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n")
}
