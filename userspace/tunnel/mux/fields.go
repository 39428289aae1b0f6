package mux

import (
	"encoding/binary"
	"fmt"
)

// Field is one named value of an OPEN or REPLY frame.
type Field struct {
	Name, Value string
}

// Fields is the ordered list of fields of an OPEN or REPLY frame.
type Fields []Field

// Get returns the value of the first field called name.
func (f Fields) Get(name string) (string, bool) {
	for _, x := range f {
		if x.Name == name {
			return x.Value, true
		}
	}
	return "", false
}

// appendFields encodes f after b.
func appendFields(b []byte, f Fields) ([]byte, error) {
	for _, x := range f {
		if len(x.Name) == 0 || len(x.Name) > 255 {
			return nil, fmt.Errorf("field name of %d bytes: want 1 to 255", len(x.Name))
		}
		if len(x.Value) > 0xffff {
			return nil, fmt.Errorf("field %q: value of %d bytes exceeds 65535", x.Name, len(x.Value))
		}
		b = append(b, byte(len(x.Name)))
		b = append(b, x.Name...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(x.Value)))
		b = append(b, x.Value...)
	}
	if len(b) > MaxPayload {
		return nil, fmt.Errorf("fields of %d bytes exceed a frame's %d", len(b), MaxPayload)
	}
	return b, nil
}

func decodeFields(p []byte) (Fields, error) {
	var f Fields
	for len(p) > 0 {
		n := int(p[0])
		if n == 0 || len(p) < 1+n+2 {
			return nil, protocolError("truncated field")
		}
		name := string(p[1 : 1+n])
		p = p[1+n:]
		m := int(binary.BigEndian.Uint16(p))
		if len(p) < 2+m {
			return nil, protocolError("truncated value of field %q", name)
		}
		f = append(f, Field{Name: name, Value: string(p[2 : 2+m])})
		p = p[2+m:]
	}
	return f, nil
}
