package classify

import (
	"strconv"
	"strings"
)

// step is one step of a path: an object key, an array index, or entering embedded JSON.
type step struct {
	key   string
	index int
	kind  stepKind
}

type stepKind uint8

const (
	stepKey stepKind = iota
	stepIndex
	stepEmbedded
)

// pathString writes a path from its steps. It runs only when there is a finding to report.
func pathString(steps []step) string {
	var b strings.Builder
	b.WriteByte('$')
	for _, s := range steps {
		switch s.kind {
		case stepIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		case stepEmbedded:
			b.WriteString("#json")
		default:
			if isIdentifier(s.key) {
				b.WriteByte('.')
				b.WriteString(s.key)
			} else {
				b.WriteString("[")
				b.WriteString(strconv.Quote(s.key))
				b.WriteString("]")
			}
		}
	}
	return b.String()
}

// isIdentifier reports whether a key can be written after a dot: letters, digits, _ and -,
// not starting with a digit or -.
func isIdentifier(k string) bool {
	if k == "" || isDigit(k[0]) || k[0] == '-' {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}
