package protocol

import "encoding/json"

// Any returns v decoded into what encoding/json decodes into with UseNumber: map[string]any,
// []any, string, json.Number, bool or nil (for null and the zero Value). Duplicate keys keep
// the last member. It copies v's text once: the strings and keys without escapes share that
// copy instead of being allocated one by one.
func (v Value) Any() any {
	if v.d == nil {
		return nil
	}
	return v.anyIn(string(v.Raw()), v.node().start)
}

// anyIn decodes v; s is the text of the document from offset base on.
func (v Value) anyIn(s string, base int32) any {
	n := v.node()
	switch n.typ {
	case TypeObject:
		m := make(map[string]any, n.kidsLen)
		for i := range int(n.kidsLen) {
			k := v.kid(i)
			kn := k.node()
			var key string
			if kn.keyEsc {
				key = decodeJSONString(v.d.src[kn.keyStart+1 : kn.keyEnd-1])
			} else {
				key = s[kn.keyStart+1-base : kn.keyEnd-1-base]
			}
			m[key] = k.anyIn(s, base)
		}
		return m
	case TypeArray:
		a := make([]any, n.kidsLen)
		for i := range a {
			a[i] = v.kid(i).anyIn(s, base)
		}
		return a
	case TypeString:
		if n.esc {
			return decodeJSONString(v.d.src[n.start+1 : n.end-1])
		}
		return s[n.start+1-base : n.end-1-base]
	case TypeNumber:
		return json.Number(s[n.start-base : n.end-base])
	case TypeBool:
		return s[n.start-base] == 't'
	}
	return nil
}
