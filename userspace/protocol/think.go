package protocol

import "strings"

// Reasoning models served behind OpenAI-compatible APIs (DeepSeek-R1, Qwen and others on vLLM,
// Ollama, llama.cpp) often put their reasoning in the content, between <think> and </think>;
// some templates open the block in the prompt, so the output starts inside it and only the
// closing tag appears.
var thinkTags = [...]struct{ open, close string }{
	{"<think>", "</think>"},
	{"<thinking>", "</thinking>"},
}

// SplitThink separates the reasoning blocks of a text from its answer. Reasoning is the text of
// each <think>…</think> (or <thinking>…</thinking>) block, an unterminated block running to the
// end, and the text before a closing tag that has no opening one; blocks are joined with "\n".
// The answer is the rest, trimmed of the space that separated it from the blocks.
func SplitThink(s string) (reasoning, answer string) {
	var t thinkSplitter
	var r, a strings.Builder
	for _, seg := range append(t.feed(s), t.flush()...) {
		if seg.reasoning {
			if r.Len() > 0 && seg.start {
				r.WriteByte('\n')
			}
			r.WriteString(seg.text)
		} else {
			a.WriteString(seg.text)
		}
	}
	return strings.TrimSpace(r.String()), strings.TrimSpace(a.String())
}

type thinkSeg struct {
	reasoning bool
	start     bool // first text of a reasoning block
	text      string
}

// thinkSplitter splits a text that arrives in fragments (streamed content deltas) into answer
// and reasoning segments. A tag cut across fragments is recognised: the bytes that may begin a
// tag are held back until the next fragment (or flush).
type thinkSplitter struct {
	in       bool   // inside a block
	close    string // the tag that ends it
	seenTag  bool   // a tag has been seen: a later lone closing tag is just text
	newBlock bool
	carry    string
}

func (t *thinkSplitter) feed(delta string) []thinkSeg {
	s := t.carry + delta
	t.carry = ""
	var segs []thinkSeg
	emit := func(reasoning bool, text string) {
		if text == "" {
			return
		}
		segs = append(segs, thinkSeg{reasoning: reasoning, start: reasoning && t.newBlock, text: text})
		if reasoning {
			t.newBlock = false
		}
	}
	for len(s) > 0 {
		if t.in {
			i := strings.Index(s, t.close)
			if i < 0 {
				keep := partialTagSuffix(s, t.close)
				emit(true, s[:len(s)-keep])
				t.carry = s[len(s)-keep:]
				break
			}
			emit(true, s[:i])
			s = s[i+len(t.close):]
			t.in = false
			continue
		}
		oi, open, closeTag := -1, "", ""
		ci, closeLen := -1, 0
		for _, tag := range thinkTags {
			if i := strings.Index(s, tag.open); i >= 0 && (oi < 0 || i < oi) {
				oi, open, closeTag = i, tag.open, tag.close
			}
			if i := strings.Index(s, tag.close); i >= 0 && (ci < 0 || i < ci) {
				ci, closeLen = i, len(tag.close)
			}
		}
		if !t.seenTag && ci >= 0 && (oi < 0 || ci < oi) {
			// A closing tag with no opening one: what came before it was reasoning.
			t.seenTag, t.newBlock = true, true
			emit(true, s[:ci])
			s = s[ci+closeLen:]
			continue
		}
		if oi < 0 {
			keep := 0
			for _, tag := range thinkTags {
				keep = max(keep, partialTagSuffix(s, tag.open))
				if !t.seenTag {
					keep = max(keep, partialTagSuffix(s, tag.close))
				}
			}
			emit(false, s[:len(s)-keep])
			t.carry = s[len(s)-keep:]
			break
		}
		emit(false, s[:oi])
		s = s[oi+len(open):]
		t.in, t.close, t.seenTag, t.newBlock = true, closeTag, true, true
	}
	return segs
}

// flush returns what was held back.
func (t *thinkSplitter) flush() []thinkSeg {
	if t.carry == "" {
		return nil
	}
	seg := thinkSeg{reasoning: t.in, start: t.in && t.newBlock, text: t.carry}
	t.carry = ""
	return []thinkSeg{seg}
}

// partialTagSuffix returns the length of the longest proper suffix of s that begins tag.
func partialTagSuffix(s, tag string) int {
	for n := min(len(tag)-1, len(s)); n > 0; n-- {
		if strings.HasPrefix(tag, s[len(s)-n:]) {
			return n
		}
	}
	return 0
}
