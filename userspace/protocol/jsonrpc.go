package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// RPCType says what a JSON-RPC 2.0 message is.
type RPCType uint8

// JSON-RPC message types.
const (
	RPCInvalid      RPCType = iota // not a valid JSON-RPC 2.0 message (see RPC.Invalid)
	RPCRequest                     // method and id: expects a response
	RPCNotification                // method, no id member
	RPCResult                      // result and id
	RPCError                       // error and id
)

var rpcTypeNames = [...]string{"invalid", "request", "notification", "result", "error"}

func (t RPCType) String() string {
	if int(t) < len(rpcTypeNames) {
		return rpcTypeNames[t]
	}
	return "RPCType(" + strconv.Itoa(int(t)) + ")"
}

// RPC is one JSON-RPC 2.0 message: a whole body, or one element of a batch.
type RPC struct {
	Type RPCType
	// ID is the id member exactly as sent (any JSON type, whitespace trimmed); nil when there is
	// no id member, the 4 bytes "null" for an explicit null.
	ID json.RawMessage
	// Method is the method of a request or notification.
	Method string
	// Params, Result are the members of those names (the zero Value when absent).
	Params Value
	Result Value
	// Error is the error object of an error response.
	Error *RPCErrorObject
	// Value is the whole message object.
	Value Value
	// Invalid says why the message is not valid JSON-RPC 2.0 (wraps [ErrInvalidRequest]). It
	// is also set, with Type kept, for a request or response whose id is neither a string, a
	// number nor null: such ids are kept as sent, but flagged.
	Invalid error
}

// RPCErrorObject is the error member of a JSON-RPC error response.
type RPCErrorObject struct {
	Code    int64
	Message string
	Data    Value
}

// IsResponse reports whether m answers a request (a result or an error).
func (m *RPC) IsResponse() bool { return m.Type == RPCResult || m.Type == RPCError }

// RPCBody is a parsed JSON-RPC body: one message or a batch.
type RPCBody struct {
	Doc      *Document
	Batch    bool
	Messages []RPC
}

// ParseJSONRPC parses a JSON-RPC 2.0 body. Input that is not JSON is an error matching
// [ErrMalformed] (answer -32700); a body that is neither an object nor a non-empty array, or a
// batch over lim.MaxBatch, matches [ErrInvalidRequest] (answer -32600) or [ErrTooLarge]. A batch
// element that is not a valid message does not fail the body: it is returned with Type RPCInvalid
// and its reason in Invalid.
func ParseJSONRPC(body []byte, lim Limits) (*RPCBody, error) {
	doc, err := ParseJSON(body, lim)
	if err != nil {
		return nil, fmt.Errorf("json-rpc: %w", err)
	}
	return rpcFromDoc(doc, nil)
}

// rpcFromDoc reads the JSON-RPC message(s) of doc. A body of one message is made in *one when
// one is not nil (a body parser keeps it in the body's allocation, see bodyAlloc), else
// allocated.
func rpcFromDoc(doc *Document, one *rpcBodyOne) (*RPCBody, error) {
	root := doc.Root()
	switch root.Type() {
	case TypeObject:
		// One message: the body and its message in one allocation.
		if one == nil {
			one = &rpcBodyOne{}
		}
		one.msg[0] = parseRPC(root, one.id[:0:len(one.id)])
		one.body = RPCBody{Doc: doc, Messages: one.msg[:]}
		return &one.body, nil
	case TypeArray:
		if root.Len() == 0 {
			return nil, fmt.Errorf("json-rpc: empty batch: %w", ErrInvalidRequest)
		}
		if root.Len() > doc.lim.MaxBatch {
			return nil, fmt.Errorf("json-rpc: batch of %d, limit %d: %w", root.Len(), doc.lim.MaxBatch, ErrTooLarge)
		}
		b := &RPCBody{Doc: doc, Batch: true, Messages: make([]RPC, 0, root.Len())}
		for _, el := range root.Elements() {
			b.Messages = append(b.Messages, parseRPC(el, nil))
		}
		return b, nil
	}
	return nil, fmt.Errorf("json-rpc: body is a %s, want an object or a batch array: %w", root.Type(), ErrInvalidRequest)
}

// rpcBodyOne is an RPCBody of one message with the array that holds it, and room for the copy
// of a short id.
type rpcBodyOne struct {
	body RPCBody
	msg  [1]RPC
	id   [16]byte
}

// IsJSONRPC reports whether a parsed body looks like JSON-RPC: an object, or an array of objects,
// with a "jsonrpc" member.
func IsJSONRPC(root Value) bool {
	switch root.Type() {
	case TypeObject:
		return root.Has("jsonrpc")
	case TypeArray:
		return root.Len() > 0 && root.Index(0).Type() == TypeObject && root.Index(0).Has("jsonrpc")
	}
	return false
}

// parseRPC reads one JSON-RPC message. Its ID is copied into idRoom (empty, with capacity) when
// it fits, else into an allocation of its own.
func parseRPC(v Value, idRoom []byte) RPC {
	m := RPC{Value: v}
	invalid := func(format string, args ...any) RPC {
		m.Type = RPCInvalid
		m.Invalid = fmt.Errorf("json-rpc: "+format+": %w", append(args, ErrInvalidRequest)...)
		return m
	}
	if v.Type() != TypeObject {
		return invalid("message is a %s, want an object", v.Type())
	}
	e := envelopeOf(v)
	id, method, params, result, errObj := e.id, e.method, e.params, e.result, e.errObj
	if id.Exists() {
		if raw := id.Raw(); len(raw) <= cap(idRoom) {
			// Capacity capped at the length, so that appending to ID never writes into the room.
			m.ID = json.RawMessage(append(idRoom, raw...)[:len(raw):len(raw)])
		} else {
			m.ID = json.RawMessage(bytes.Clone(raw))
		}
	}
	m.Params, m.Result = params, result
	if method.Type() == TypeString {
		m.Method = method.Str()
	}
	if ver := e.jsonrpc; ver.Type() != TypeString || !ver.strIs("2.0") {
		return invalid(`"jsonrpc" is not "2.0"`)
	}
	switch {
	case method.Exists():
		if method.Type() != TypeString {
			return invalid(`"method" is a %s, want a string`, method.Type())
		}
		if result.Exists() || errObj.Exists() {
			return invalid("request with a result or error member")
		}
		if params.Exists() && params.Type() != TypeObject && params.Type() != TypeArray {
			return invalid(`"params" is a %s, want an object or array`, params.Type())
		}
		if m.ID == nil {
			m.Type = RPCNotification
		} else {
			m.Type = RPCRequest
		}
	case result.Exists() && errObj.Exists():
		return invalid("response with both result and error")
	case result.Exists():
		if m.ID == nil {
			return invalid("response without id")
		}
		m.Type = RPCResult
	case errObj.Exists():
		if m.ID == nil {
			return invalid("response without id")
		}
		if errObj.Type() != TypeObject {
			return invalid(`"error" is a %s, want an object`, errObj.Type())
		}
		code, ok := errObj.Get("code").Int()
		if !ok {
			return invalid("error object without an integer code")
		}
		m.Error = &RPCErrorObject{Code: code, Message: errObj.Get("message").Str(), Data: errObj.Get("data")}
		m.Type = RPCError
	default:
		return invalid("neither a method nor a result or error")
	}
	if m.ID != nil {
		if t := id.Type(); t != TypeString && t != TypeNumber && t != TypeNull {
			// Kept as sent (some peers use other types), but flagged: JSON-RPC 2.0 allows
			// strings, numbers and null only.
			m.Invalid = fmt.Errorf("json-rpc: id is a %s, want a string, number or null: %w", t, ErrInvalidRequest)
		}
	}
	return m
}

// envelope holds the members of a JSON-RPC message object that parseRPC reads.
type envelope struct {
	jsonrpc, id, method, params, result, errObj Value
}

// envelopeOf finds the envelope members of object v in one pass over its members, as Get finds
// them one by one (the last member of a name, keys compared as decoded).
func envelopeOf(v Value) envelope {
	var e envelope
	n := v.node()
	for _, k := range v.d.kids[n.kidsOff : n.kidsOff+n.kidsLen] {
		nd := &v.d.nodes[k]
		key := v.d.src[nd.keyStart+1 : nd.keyEnd-1]
		if nd.keyEsc {
			key = []byte(decodeJSONString(key))
		}
		m := Value{d: v.d, n: k}
		switch string(key) {
		case "jsonrpc":
			e.jsonrpc = m
		case "id":
			e.id = m
		case "method":
			e.method = m
		case "params":
			e.params = m
		case "result":
			e.result = m
		case "error":
			e.errObj = m
		}
	}
	return e
}

// idKey returns a key under which equal ids compare equal: the decoded text of a string id
// ("s:..."), a number in canonical form ("n:..."), else the compacted JSON.
func idKey(id json.RawMessage) string {
	var buf [64]byte
	return string(appendIDKey(buf[:0], id))
}

// appendIDKey appends idKey(id) to b: a map lookup with the result as string(...) allocates
// nothing.
func appendIDKey(b []byte, id json.RawMessage) []byte {
	id = bytes.TrimSpace(id)
	if len(id) == 0 {
		return b
	}
	switch c := id[0]; {
	case c == '"':
		var s string
		if json.Unmarshal(id, &s) == nil {
			return append(append(b, "s:"...), s...)
		}
	case c == '-' || (c >= '0' && c <= '9'):
		if smallInt(id) { // its canonical form is itself: spare the float round trip
			return append(append(b, "n:"...), id...)
		}
		if f, err := strconv.ParseFloat(string(id), 64); err == nil {
			return strconv.AppendFloat(append(b, "n:"...), f, 'g', -1, 64)
		}
	}
	var c bytes.Buffer
	if json.Compact(&c, id) == nil {
		return append(append(b, "j:"...), c.Bytes()...)
	}
	return append(append(b, "j:"...), id...)
}

// smallInt reports whether id is a non-negative integer of at most six digits without leading
// zeros: one that strconv.FormatFloat(f, 'g', -1, 64) writes back as it is (it turns to an
// exponent only from 1e6 up).
func smallInt(id []byte) bool {
	if len(id) == 0 || len(id) > 6 || (id[0] == '0' && len(id) > 1) {
		return false
	}
	for _, c := range id {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
