package scrub

import (
	"strconv"
	"unicode/utf8"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// QuietAt reports whether CleanAt(root.Any(), path...) would remove nothing, reading root where
// it lies instead of decoding it. It may report false where CleanAt removes nothing (every
// member of an object with duplicate keys is looked at), never true where it removes something.
func (m *Metadata) QuietAt(root protocol.Value, path ...string) bool {
	quiet := true
	var buf [64]byte
	walkValue(root, path, func(obj protocol.Value) bool {
		for i := range obj.Len() {
			if m.removesKey(obj.Index(i), buf[:0]) {
				quiet = false
				return false
			}
		}
		return true
	})
	return quiet
}

// ClientInfoQuietAt reports whether ClientInfoAt(root.Any(), path...) would change nothing, with
// the values over gives put in place of some of root's values (over may be nil). It errs on the
// safe side as QuietAt does.
func ClientInfoQuietAt(root protocol.Value, over func(protocol.Value) (any, bool), path ...string) bool {
	quiet := true
	walkValue(root, path, func(obj protocol.Value) bool {
		for i := range obj.Len() {
			mv := obj.Index(i)
			switch mv.Key() {
			case "name":
				continue
			case "version":
				var v any = nil
				if x, ok := overOf(over, mv); ok {
					v = x
				} else if mv.Type() == protocol.TypeString {
					v = mv.Str()
				}
				if v == ClientInfoVersion {
					continue
				}
			}
			quiet = false
			return false
		}
		return true
	})
	return quiet
}

// removesKey is Removes for the member name of v, read into buf without allocating when it is
// ASCII.
func (m *Metadata) removesKey(v protocol.Value, buf []byte) bool {
	k := v.AppendKey(buf)
	for i, c := range k {
		switch {
		case c >= utf8.RuneSelf:
			return m.Removes(string(k))
		case 'A' <= c && c <= 'Z':
			k[i] = c + 'a' - 'A'
		}
	}
	return m.keys[string(k)]
}

func overOf(over func(protocol.Value) (any, bool), v protocol.Value) (any, bool) {
	if over == nil {
		return nil, false
	}
	return over(v)
}

// walkValue is walk over a parsed document: fn is called with every object at path, until it
// returns false.
func walkValue(v protocol.Value, path []string, fn func(obj protocol.Value) bool) bool {
	if len(path) == 0 {
		if v.Type() == protocol.TypeObject {
			return fn(v)
		}
		return true
	}
	step, rest := path[0], path[1:]
	typ := v.Type()
	if step == "*" && (typ == protocol.TypeObject || typ == protocol.TypeArray) {
		for i := range v.Len() {
			if !walkValue(v.Index(i), rest, fn) {
				return false
			}
		}
		return true
	}
	switch typ {
	case protocol.TypeObject:
		if e := v.Get(step); e.Exists() {
			return walkValue(e, rest, fn)
		}
	case protocol.TypeArray:
		if i, err := strconv.Atoi(step); err == nil && i >= 0 && i < v.Len() {
			return walkValue(v.Index(i), rest, fn)
		}
	}
	return true
}
