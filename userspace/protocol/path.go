package protocol

import (
	"fmt"
	"strconv"
	"strings"
)

// Step is one step of a [Path]: an object member or array element named by Token, or, when Decode
// is set, a step into the JSON text held by the string reached so far (OpenAI's
// function.arguments is such a string).
type Step struct {
	Token  string
	Decode bool
}

// Path addresses one value in a body. Its text form ([Path.String]) is an RFC 6901 JSON Pointer,
// with "#" where the path steps into JSON held inside a string:
//
//	/messages/2/tool_calls/0/function/arguments#/city
//
// A key that contains "#" is written with the escape "~2", in addition to RFC 6901's "~0" for "~"
// and "~1" for "/". The empty Path is the whole body.
type Path []Step

// Key returns p extended by an object member.
func (p Path) Key(k string) Path { return p.with(Step{Token: k}) }

// Index returns p extended by an array element.
func (p Path) Index(i int) Path { return p.with(Step{Token: strconv.Itoa(i)}) }

// Decoded returns p extended by a step into the JSON text held by the string at p.
func (p Path) Decoded() Path { return p.with(Step{Decode: true}) }

func (p Path) with(s Step) Path {
	q := make(Path, len(p), len(p)+1)
	copy(q, p)
	return append(q, s)
}

// String returns the text form of p (see [Path]).
func (p Path) String() string {
	var b strings.Builder
	for _, s := range p {
		if s.Decode {
			b.WriteByte('#')
			continue
		}
		b.WriteByte('/')
		for i := 0; i < len(s.Token); i++ {
			switch c := s.Token[i]; c {
			case '~':
				b.WriteString("~0")
			case '/':
				b.WriteString("~1")
			case '#':
				b.WriteString("~2")
			default:
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}

// Equal reports whether p and q address the same value.
func (p Path) Equal(q Path) bool {
	if len(p) != len(q) {
		return false
	}
	for i := range p {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

// HasPrefix reports whether p is q or lies inside the value q addresses.
func (p Path) HasPrefix(q Path) bool {
	return len(q) <= len(p) && p[:len(q)].Equal(q)
}

// Last returns the token of the last member or element step of p, "" for the empty path.
func (p Path) Last() string {
	for i := len(p) - 1; i >= 0; i-- {
		if !p[i].Decode {
			return p[i].Token
		}
	}
	return ""
}

// ParsePath parses the text form of a path (see [Path]).
func ParsePath(s string) (Path, error) {
	var p Path
	for len(s) > 0 {
		switch s[0] {
		case '#':
			p = append(p, Step{Decode: true})
			s = s[1:]
		case '/':
			s = s[1:]
			end := strings.IndexAny(s, "/#")
			if end < 0 {
				end = len(s)
			}
			tok, err := unescapeToken(s[:end])
			if err != nil {
				return nil, fmt.Errorf("parse path: %w", err)
			}
			p = append(p, Step{Token: tok})
			s = s[end:]
		default:
			return nil, fmt.Errorf("parse path: %q: want '/' or '#' at the start of each step", s)
		}
	}
	return p, nil
}

func unescapeToken(t string) (string, error) {
	if !strings.Contains(t, "~") {
		return t, nil
	}
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		if t[i] != '~' {
			b.WriteByte(t[i])
			continue
		}
		if i+1 >= len(t) {
			return "", fmt.Errorf("token %q ends in a lone '~'", t)
		}
		switch t[i+1] {
		case '0':
			b.WriteByte('~')
		case '1':
			b.WriteByte('/')
		case '2':
			b.WriteByte('#')
		default:
			return "", fmt.Errorf("token %q: unknown escape ~%c", t, t[i+1])
		}
		i++
	}
	return b.String(), nil
}
