package protocol

import (
	"fmt"
	"strings"
)

// responsesStream follows a Responses API event stream, per output item.
type responsesStream struct {
	items map[int64]*respItem
	order []int64
	final []Message // the items of response.completed / failed / incomplete
}

type respItem struct {
	typ, name, callID, role string
	text                    strings.Builder // output text, arguments or reasoning, from deltas
	think                   thinkSplitter
	done                    []Message // from response.output_item.done
}

func (rs *responsesStream) item(idx int64, lim Limits) (*respItem, error) {
	if it, ok := rs.items[idx]; ok {
		return it, nil
	}
	if len(rs.items) >= lim.MaxStreamItems {
		return nil, fmt.Errorf("responses stream: more than %d output items: %w", lim.MaxStreamItems, ErrTooLarge)
	}
	if rs.items == nil {
		rs.items = make(map[int64]*respItem)
	}
	it := &respItem{}
	rs.items[idx] = it
	rs.order = append(rs.order, idx)
	return it, nil
}

// responsesEvent reads one Responses stream event (its type is in the data, and usually in the
// SSE event field too).
func (s *StreamParser) responsesEvent(bb *builder, root Value) error {
	typ := root.Get("type").Str()
	start := len(bb.b.Messages)
	defer func() {
		for i := start; i < len(bb.b.Messages); i++ {
			bb.b.Messages[i].Method = typ
		}
	}()
	item := func() (*respItem, error) {
		idx, ok := root.Get("output_index").Int()
		if !ok {
			idx = -1
		}
		return s.resp.item(idx, s.lim)
	}
	delta := root.Get("delta")
	switch typ {
	case "response.created", "response.in_progress", "response.queued":
		for _, it := range root.Get("response").Get("output").Elements() {
			bb.responsesItem(it, false, true)
		}
	case "response.completed", "response.failed", "response.incomplete":
		bb.responsesResponse(root.Get("response"))
		s.resp.final = append([]Message(nil), bb.b.Messages[start:]...)
	case "response.output_item.added", "response.output_item.done":
		st, err := item()
		if err != nil {
			return err
		}
		it := root.Get("item")
		st.typ, st.role = it.Get("type").Str(), it.Get("role").Str()
		st.name = it.Get("name").Str()
		st.callID = firstStr(it.Get("call_id"), it.Get("id"))
		done := typ == "response.output_item.done"
		bb.responsesItem(it, false, !done)
		if done {
			st.done = append([]Message(nil), bb.b.Messages[start:]...)
		}
	case "response.output_text.delta", "response.refusal.delta":
		st, err := item()
		if err != nil {
			return err
		}
		t := delta.Str()
		if err := s.grow(len(t)); err != nil {
			return err
		}
		st.text.WriteString(t)
		if typ == "response.refusal.delta" {
			bb.add(Message{Kind: KindCompletion, Value: delta, Role: "assistant", Text: t, Partial: true})
			break
		}
		for _, seg := range st.think.feed(t) {
			kind := KindCompletion
			if seg.reasoning {
				kind = KindReasoning
			}
			bb.add(Message{Kind: kind, Value: delta, Role: "assistant", Text: seg.text, Partial: true})
		}
	case "response.output_text.done", "response.refusal.done":
		v := firstValue(root.Get("text"), root.Get("refusal"))
		think, answer := SplitThink(v.Str())
		if think != "" {
			bb.add(Message{Kind: KindReasoning, Value: v, Role: "assistant", Text: think})
		}
		bb.add(Message{Kind: KindCompletion, Value: v, Role: "assistant", Text: answer})
	case "response.function_call_arguments.delta", "response.mcp_call_arguments.delta", "response.custom_tool_call_input.delta":
		st, err := item()
		if err != nil {
			return err
		}
		t := delta.Str()
		if err := s.grow(len(t)); err != nil {
			return err
		}
		st.text.WriteString(t)
		bb.add(Message{Kind: KindToolCall, Value: delta, Name: st.name, CallID: st.callID, Role: "assistant", Text: t, Partial: true})
	case "response.function_call_arguments.done", "response.mcp_call_arguments.done":
		st, err := item()
		if err != nil {
			return err
		}
		name := root.Get("name").Str()
		if name == "" {
			name = st.name
		}
		bb.add(toolCallMessage(root, name, st.callID, root.Get("arguments")))
	case "response.custom_tool_call_input.done":
		st, err := item()
		if err != nil {
			return err
		}
		bb.add(Message{Kind: KindToolCall, Value: root.Get("input"), Name: st.name, CallID: st.callID, Role: "assistant", Text: root.Get("input").Str()})
	case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		st, err := item()
		if err != nil {
			return err
		}
		t := delta.Str()
		if err := s.grow(len(t)); err != nil {
			return err
		}
		st.text.WriteString(t)
		bb.add(Message{Kind: KindReasoning, Value: delta, Role: "assistant", Text: t, Partial: true})
	case "response.reasoning_summary_text.done", "response.reasoning_text.done":
		bb.add(Message{Kind: KindReasoning, Value: root.Get("text"), Role: "assistant", Text: root.Get("text").Str()})
	case "response.reasoning_summary_part.added", "response.reasoning_summary_part.done":
		p := root.Get("part")
		bb.add(Message{Kind: KindReasoning, Value: p, Role: "assistant", Text: p.Get("text").Str(),
			Partial: typ == "response.reasoning_summary_part.added"})
	case "response.content_part.added", "response.content_part.done":
		st, err := item()
		if err != nil {
			return err
		}
		p := root.Get("part")
		c := contentPart(p)
		kind := KindCompletion
		if st.typ == "reasoning" || c.Type == "reasoning_text" {
			kind = KindReasoning
		}
		bb.add(Message{Kind: kind, Value: p, Role: "assistant", Content: []Content{c}, Text: c.Text,
			Partial: typ == "response.content_part.added"})
	case "error":
		bb.add(Message{Kind: KindCompletion, Value: root, IsError: true, Text: root.Get("message").Str()})
	default:
		// Progress events of built-in tools (response.mcp_call.in_progress,
		// response.web_search_call.searching, ...), annotations: no payload of their own.
		bb.add(Message{Kind: KindBody, Value: root})
	}
	return nil
}

// summary returns the final response's items, or the items assembled so far when the stream
// ended without one.
func (rs *responsesStream) summary(lim Limits) []Message {
	if rs.final != nil {
		return rs.final
	}
	var ms []Message
	for _, idx := range rs.order {
		st := rs.items[idx]
		if st.done != nil {
			ms = append(ms, st.done...)
			continue
		}
		text := st.text.String()
		switch st.typ {
		case "message":
			think, answer := SplitThink(text)
			if think != "" {
				ms = append(ms, Message{Protocol: ProtoOpenAIResponses, Kind: KindReasoning, Role: "assistant", Text: think})
			}
			ms = append(ms, Message{Protocol: ProtoOpenAIResponses, Kind: KindCompletion, Role: "assistant", Text: answer})
		case "reasoning":
			ms = append(ms, Message{Protocol: ProtoOpenAIResponses, Kind: KindReasoning, Role: "assistant", Text: text})
		case "function_call", "mcp_call", "custom_tool_call":
			m := Message{Protocol: ProtoOpenAIResponses, Kind: KindToolCall, Role: "assistant", Name: st.name, CallID: st.callID, Text: text}
			if doc, err := ParseJSON([]byte(text), lim); err == nil {
				m.Args = doc.Root()
			}
			ms = append(ms, m)
		}
	}
	return ms
}
