package protocol

import (
	"fmt"
	"iter"
	"strconv"
)

// Value is one value of a [Document]. The zero Value is no value: its accessors return zero
// results, so lookups can be chained (v.Get("params").Get("name").Str()).
type Value struct {
	d *Document
	n int32
}

func (v Value) node() *node { return &v.d.nodes[v.n] }

// Exists reports whether v is a value (not the zero Value).
func (v Value) Exists() bool { return v.d != nil }

// Document returns the document v belongs to.
func (v Value) Document() *Document { return v.d }

// Type returns v's JSON type.
func (v Value) Type() ValueType {
	if v.d == nil {
		return TypeInvalid
	}
	return v.node().typ
}

// Raw returns v's bytes as parsed.
func (v Value) Raw() []byte {
	if v.d == nil {
		return nil
	}
	n := v.node()
	return v.d.src[n.start:n.end:n.end]
}

// Str returns the decoded string if v is a string, else "".
func (v Value) Str() string {
	if v.Type() != TypeString {
		return ""
	}
	n := v.node()
	raw := v.d.src[n.start+1 : n.end-1]
	if n.esc {
		return decodeJSONString(raw)
	}
	return commonValue(raw)
}

// strIs reports whether v is a string whose decoded text is s, without allocating for a string
// without escapes.
func (v Value) strIs(s string) bool {
	if v.Type() != TypeString {
		return false
	}
	n := v.node()
	if n.esc {
		return v.Str() == s
	}
	return string(v.d.src[n.start+1:n.end-1]) == s
}

// commonValue returns raw as a string: one of the string values the protocols use everywhere
// (the JSON-RPC version, MCP and A2A methods, content types, roles) without allocating, any
// other copied.
func commonValue(raw []byte) string {
	if len(raw) > len("notifications/initialized") { // the longest below
		return string(raw)
	}
	switch string(raw) {
	case "2.0":
		return "2.0"
	case MCPInitialize:
		return MCPInitialize
	case MCPToolsList:
		return MCPToolsList
	case MCPToolsCall:
		return MCPToolsCall
	case MCPResourcesRead:
		return MCPResourcesRead
	case MCPPromptsGet:
		return MCPPromptsGet
	case MCPLogMessage:
		return MCPLogMessage
	case MCPProgress:
		return MCPProgress
	case MCPCancelled:
		return MCPCancelled
	case "notifications/initialized":
		return "notifications/initialized"
	case "message/send":
		return "message/send"
	case "message/stream":
		return "message/stream"
	case "tasks/get":
		return "tasks/get"
	case "text":
		return "text"
	case "image":
		return "image"
	case "resource":
		return "resource"
	case "resource_link":
		return "resource_link"
	case "task":
		return "task"
	case "message":
		return "message"
	case "user":
		return "user"
	case "assistant":
		return "assistant"
	case "agent":
		return "agent"
	}
	return string(raw)
}

// Text returns the decoded string of a string, the literal of a number, boolean or null, and ""
// for arrays and objects.
func (v Value) Text() string {
	switch v.Type() {
	case TypeString:
		return v.Str()
	case TypeNumber, TypeBool, TypeNull:
		return string(v.Raw())
	}
	return ""
}

// Bool returns true only for the literal true.
func (v Value) Bool() bool { return v.Type() == TypeBool && v.Raw()[0] == 't' }

// Int returns v as an integer, if it is a number that is one.
func (v Value) Int() (int64, bool) {
	if v.Type() != TypeNumber {
		return 0, false
	}
	i, err := strconv.ParseInt(string(v.Raw()), 10, 64)
	if err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(string(v.Raw()), 64)
	if err != nil || f != float64(int64(f)) {
		return 0, false
	}
	return int64(f), true
}

// Len returns the number of elements or members of an array or object, else 0.
func (v Value) Len() int {
	if v.d == nil {
		return 0
	}
	return int(v.node().kidsLen)
}

func (v Value) kid(i int) Value {
	n := v.node()
	return Value{d: v.d, n: v.d.kids[int(n.kidsOff)+i]}
}

// Index returns the i-th element of an array (or member value of an object).
func (v Value) Index(i int) Value {
	if i < 0 || i >= v.Len() {
		return Value{}
	}
	return v.kid(i)
}

// Key returns the member name of v in its parent object, "" if v is not an object member.
func (v Value) Key() string {
	if v.d == nil {
		return ""
	}
	n := v.node()
	if n.keyStart < 0 {
		return ""
	}
	raw := v.d.src[n.keyStart+1 : n.keyEnd-1]
	if n.keyEsc {
		return decodeJSONString(raw)
	}
	return commonKey(raw)
}

// commonKey returns raw as a string: one of the member names the protocols use everywhere
// without allocating, any other copied.
func commonKey(raw []byte) string {
	switch string(raw) {
	case "id":
		return "id"
	case "jsonrpc":
		return "jsonrpc"
	case "method":
		return "method"
	case "params":
		return "params"
	case "result":
		return "result"
	case "error":
		return "error"
	case "name":
		return "name"
	case "arguments":
		return "arguments"
	case "_meta":
		return "_meta"
	case "progressToken":
		return "progressToken"
	case "content":
		return "content"
	case "type":
		return "type"
	case "text":
		return "text"
	case "metadata":
		return "metadata"
	case "message":
		return "message"
	case "messageId":
		return "messageId"
	case "taskId":
		return "taskId"
	case "contextId":
		return "contextId"
	case "parts":
		return "parts"
	case "kind":
		return "kind"
	}
	return string(raw)
}

// AppendKey appends the member name of v in its parent object (what [Value.Key] returns) to b.
func (v Value) AppendKey(b []byte) []byte {
	if v.d == nil {
		return b
	}
	n := v.node()
	if n.keyStart < 0 {
		return b
	}
	raw := v.d.src[n.keyStart+1 : n.keyEnd-1]
	if n.keyEsc {
		return append(b, decodeJSONString(raw)...)
	}
	return append(b, raw...)
}

// keyIs reports whether node n of d is an object member named k.
func (d *Document) keyIs(n *node, k string) bool {
	if n.keyEsc {
		return decodeJSONString(d.src[n.keyStart+1:n.keyEnd-1]) == k
	}
	// Without escapes the key is its bytes between the quotes: compare lengths first, which
	// tells most keys apart without slicing.
	return int(n.keyEnd-n.keyStart)-2 == len(k) && n.keyStart >= 0 && string(d.src[n.keyStart+1:n.keyEnd-1]) == k
}

// Get returns the member k of an object (the last one, should duplicates be allowed), matched
// exactly.
func (v Value) Get(k string) Value {
	if v.Type() != TypeObject {
		return Value{}
	}
	n := v.node()
	kids := v.d.kids[n.kidsOff : n.kidsOff+n.kidsLen]
	for i := len(kids) - 1; i >= 0; i-- {
		if v.d.keyIs(&v.d.nodes[kids[i]], k) {
			return Value{d: v.d, n: kids[i]}
		}
	}
	return Value{}
}

// Has reports whether an object has the member k.
func (v Value) Has(k string) bool { return v.Get(k).Exists() }

// Members iterates over the members of an object in document order.
func (v Value) Members() iter.Seq2[string, Value] {
	return func(yield func(string, Value) bool) {
		if v.Type() != TypeObject {
			return
		}
		for i := range v.Len() {
			m := v.kid(i)
			if !yield(m.Key(), m) {
				return
			}
		}
	}
}

// Elements iterates over the elements of an array.
func (v Value) Elements() iter.Seq2[int, Value] {
	return func(yield func(int, Value) bool) {
		if v.Type() != TypeArray {
			return
		}
		for i := range v.Len() {
			if !yield(i, v.kid(i)) {
				return
			}
		}
	}
}

// Parent returns the array or object that holds v; for the root of JSON embedded in a string,
// the parent is that string.
func (v Value) Parent() Value {
	if v.d == nil {
		return Value{}
	}
	if p := v.node().parent; p >= 0 {
		return Value{d: v.d, n: p}
	}
	if v.d.outer != nil {
		return Value{d: v.d.outer, n: v.d.outerNode}
	}
	return Value{}
}

// Path returns where v is in the outermost document.
func (v Value) Path() Path {
	if v.d == nil {
		return nil
	}
	p := make(Path, v.pathLen())
	v.fillPath(p)
	return p
}

// pathLen returns the number of steps of v's path (v exists).
func (v Value) pathLen() int {
	depth := 0
	for d, n := v.d, v.n; ; {
		for n >= 0 && d.nodes[n].parent >= 0 {
			depth++
			n = d.nodes[n].parent
		}
		if d.outer == nil {
			break
		}
		depth++
		d, n = d.outer, d.outerNode
	}
	return depth
}

// fillPath writes v's path into p, which holds v.pathLen() steps.
func (v Value) fillPath(p Path) {
	i := len(p)
	d, n := v.d, v.n
	for {
		for n >= 0 {
			nd := &d.nodes[n]
			if nd.parent < 0 {
				break
			}
			i--
			if d.nodes[nd.parent].typ == TypeObject {
				p[i] = Step{Token: Value{d: d, n: n}.Key()}
			} else {
				p[i] = Step{Token: strconv.Itoa(int(nd.pos))}
			}
			n = nd.parent
		}
		if d.outer == nil {
			break
		}
		i--
		p[i] = Step{Decode: true}
		d, n = d.outer, d.outerNode
	}
}

// Decoded returns the root of the JSON text held by string v, parsing it on first use (see
// [Value.Embed]); the zero Value if v holds no JSON.
func (v Value) Decoded() Value {
	r, err := v.Embed()
	if err != nil {
		return Value{}
	}
	return r
}

// Embed parses the text of string v as JSON, so that walks descend into it (below
// v.Path().Decoded()) and edits inside it re-encode the string. It returns the embedded root.
func (v Value) Embed() (Value, error) {
	if v.Type() != TypeString {
		return Value{}, fmt.Errorf("embed %s: a %s, not a string: %w", v.Path(), v.Type(), ErrMalformed)
	}
	if inner, ok := v.d.embedded[v.n]; ok {
		return inner.Root(), nil
	}
	inner, err := ParseJSON([]byte(v.Str()), v.d.lim)
	if err != nil {
		return Value{}, fmt.Errorf("embed %s: %w", v.Path(), err)
	}
	inner.outer, inner.outerNode = v.d, v.n
	if v.d.embedded == nil {
		v.d.embedded = make(map[int32]*Document)
	}
	v.d.embedded[v.n] = inner
	return inner.Root(), nil
}

// IsEmbedded reports whether v is a string whose text has been parsed as JSON.
func (v Value) IsEmbedded() bool {
	if v.d == nil {
		return false
	}
	_, ok := v.d.embedded[v.n]
	return ok
}

// At returns the value at p, stepping into JSON held in strings where p says so. In an object
// with duplicate keys (accepted only with [Limits].AllowDuplicateKeys) a key names the last of
// its members.
func (d *Document) At(p Path) (Value, error) {
	v := d.Root()
	for i, s := range p {
		if s.Decode {
			inner, err := v.Embed()
			if err != nil {
				return Value{}, fmt.Errorf("%s: %w", p, ErrNoValue)
			}
			v = inner
			continue
		}
		var next Value
		switch v.Type() {
		case TypeObject:
			next = v.Get(s.Token)
		case TypeArray:
			if j, err := strconv.Atoi(s.Token); err == nil && strconv.Itoa(j) == s.Token {
				next = v.Index(j)
			}
		}
		if !next.Exists() {
			return Value{}, fmt.Errorf("%s (at %s): %w", p, p[:i+1], ErrNoValue)
		}
		v = next
	}
	return v, nil
}
