package protocol

import (
	"fmt"
	"strings"
)

// chatStream accumulates streamed chat completion chunks, per choice index.
type chatStream struct {
	choices map[int64]*chatChoice
	order   []int64
	items   int
}

type chatChoice struct {
	role      string
	content   strings.Builder
	reasoning strings.Builder
	think     thinkSplitter
	tools     map[int64]*chatToolAcc
	toolOrder []int64
	finish    string
}

type chatToolAcc struct {
	id, name string
	args     strings.Builder
}

func (cs *chatStream) choice(idx int64, lim Limits) (*chatChoice, error) {
	if c, ok := cs.choices[idx]; ok {
		return c, nil
	}
	if cs.items >= lim.MaxStreamItems {
		return nil, fmt.Errorf("chat stream: more than %d choices and tool calls: %w", lim.MaxStreamItems, ErrTooLarge)
	}
	if cs.choices == nil {
		cs.choices = make(map[int64]*chatChoice)
	}
	c := &chatChoice{tools: make(map[int64]*chatToolAcc)}
	cs.choices[idx] = c
	cs.order = append(cs.order, idx)
	cs.items++
	return c, nil
}

func (cs *chatStream) tool(c *chatChoice, idx int64, lim Limits) (*chatToolAcc, error) {
	if t, ok := c.tools[idx]; ok {
		return t, nil
	}
	if cs.items >= lim.MaxStreamItems {
		return nil, fmt.Errorf("chat stream: more than %d choices and tool calls: %w", lim.MaxStreamItems, ErrTooLarge)
	}
	t := &chatToolAcc{}
	c.tools[idx] = t
	c.toolOrder = append(c.toolOrder, idx)
	cs.items++
	return t, nil
}

// chatChunk reads one chat.completion.chunk: per choice, the delta's reasoning, content (split at
// <think> tags, across chunks), refusal and tool-call fragments (accumulated by index).
func (s *StreamParser) chatChunk(bb *builder, root Value) error {
	for i, c := range root.Get("choices").Elements() {
		idx, ok := c.Get("index").Int()
		if !ok {
			idx = int64(i)
		}
		ch, err := s.chat.choice(idx, s.lim)
		if err != nil {
			return err
		}
		if f := c.Get("finish_reason"); f.Type() == TypeString {
			ch.finish = f.Str()
		}
		d := c.Get("delta")
		if r := d.Get("role"); r.Type() == TypeString {
			ch.role = r.Str()
		}
		for _, f := range reasoningFields {
			r := d.Get(f)
			if !r.Exists() || r.Type() == TypeNull || string(r.Raw()) == `""` {
				continue
			}
			t := reasoningText(r)
			if err := s.grow(len(t)); err != nil {
				return err
			}
			ch.reasoning.WriteString(t)
			bb.add(Message{Kind: KindReasoning, Value: r, Role: "assistant", Text: t, Partial: true})
		}
		if content := d.Get("content"); content.Type() == TypeString && content.Str() != "" {
			t := content.Str()
			if err := s.grow(len(t)); err != nil {
				return err
			}
			ch.content.WriteString(t)
			for _, seg := range ch.think.feed(t) {
				kind := KindCompletion
				if seg.reasoning {
					kind = KindReasoning
				}
				bb.add(Message{Kind: kind, Value: content, Role: "assistant", Text: seg.text, Partial: true})
			}
		}
		if ch.finish != "" {
			// The choice is over: text held back as a possible tag start is plain text.
			for _, seg := range ch.think.flush() {
				kind := KindCompletion
				if seg.reasoning {
					kind = KindReasoning
				}
				bb.add(Message{Kind: kind, Value: c, Role: "assistant", Text: seg.text, Partial: true})
			}
		}
		if r := d.Get("refusal"); r.Type() == TypeString && r.Str() != "" {
			bb.add(Message{Kind: KindCompletion, Value: r, Role: "assistant", Text: r.Str(), Partial: true})
		}
		for k, tc := range d.Get("tool_calls").Elements() {
			ti, ok := tc.Get("index").Int()
			if !ok {
				ti = int64(k)
			}
			acc, err := s.chat.tool(ch, ti, s.lim)
			if err != nil {
				return err
			}
			if id := tc.Get("id").Str(); id != "" && acc.id == "" {
				acc.id = id
			}
			f := tc.Get("function")
			if n := f.Get("name").Str(); n != "" && n != acc.name {
				acc.name += n
			}
			frag := f.Get("arguments").Str()
			if err := s.grow(len(frag) + len(acc.name)); err != nil {
				return err
			}
			acc.args.WriteString(frag)
			bb.add(Message{Kind: KindToolCall, Value: tc, Name: acc.name, CallID: acc.id, Role: "assistant", Text: frag, Partial: true})
		}
	}
	return nil
}

// summary assembles each choice: reasoning, answer (with <think> blocks split off) and tool calls
// with their arguments joined and decoded.
func (cs *chatStream) summary(lim Limits) []Message {
	var ms []Message
	for _, idx := range cs.order {
		ch := cs.choices[idx]
		reasoning := ch.reasoning.String()
		think, answer := SplitThink(ch.content.String())
		if think != "" {
			reasoning = strings.TrimSpace(reasoning + "\n" + think)
		}
		if reasoning != "" {
			ms = append(ms, Message{Protocol: ProtoOpenAIChat, Kind: KindReasoning, Role: "assistant", Text: reasoning})
		}
		if ch.content.Len() > 0 {
			ms = append(ms, Message{Protocol: ProtoOpenAIChat, Kind: KindCompletion, Role: "assistant", Text: answer,
				Content: []Content{{Type: "text", Text: answer}}})
		}
		for _, ti := range ch.toolOrder {
			t := ch.tools[ti]
			m := Message{Protocol: ProtoOpenAIChat, Kind: KindToolCall, Role: "assistant", Name: t.name, CallID: t.id, Text: t.args.String()}
			if doc, err := ParseJSON([]byte(m.Text), lim); err == nil {
				m.Args = doc.Root()
			}
			ms = append(ms, m)
		}
	}
	return ms
}
