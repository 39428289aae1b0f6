package protocol

import (
	"errors"
	"iter"
	"slices"
)

// SkipChildren, returned by a [Document.Walk] visitor, skips the values below the one visited.
var SkipChildren = errors.New("skip children")

// Node is what a walk visits: one value with where it is.
type Node struct {
	// Path is where the value is; the visitor may keep it.
	Path Path
	// Key is the member name of the value in its object ("" for array elements and roots).
	// Classifiers match sensitive field names against it.
	Key   string
	Value Value
	// Embedded marks a string whose text is JSON (for instance OpenAI function.arguments); the
	// values decoded from it are visited next, below Path.Decoded().
	Embedded bool
}

// Walk visits every value of the document, parents before children, in document order,
// descending into JSON held in strings that were embedded ([Value.Embed]; the protocol parsers
// embed the tool-call arguments they find). A visitor error stops the walk and is returned, except
// [SkipChildren].
func (d *Document) Walk(visit func(Node) error) error { return d.Root().Walk(visit) }

// Walk visits v and every value below it (see [Document.Walk]).
func (v Value) Walk(visit func(Node) error) error {
	if v.d == nil {
		return nil
	}
	err := walkValue(v, v.Path(), visit)
	if errors.Is(err, SkipChildren) {
		return nil
	}
	return err
}

func walkValue(v Value, path Path, visit func(Node) error) error {
	emb := v.IsEmbedded()
	err := visit(Node{Path: slices.Clip(path), Key: v.Key(), Value: v, Embedded: emb})
	if errors.Is(err, SkipChildren) {
		return nil
	}
	if err != nil {
		return err
	}
	if emb {
		return walkValue(v.d.embedded[v.n].Root(), path.Decoded(), visit)
	}
	switch v.Type() {
	case TypeObject:
		for i := range v.Len() {
			k := v.kid(i)
			if err := walkValue(k, path.Key(k.Key()), visit); err != nil {
				return err
			}
		}
	case TypeArray:
		for i := range v.Len() {
			if err := walkValue(v.kid(i), path.Index(i), visit); err != nil {
				return err
			}
		}
	}
	return nil
}

// Strings iterates over every string value of the document with its path, the strings decoded
// from embedded JSON instead of the text that holds them.
func (d *Document) Strings() iter.Seq2[Path, string] { return d.Root().Strings() }

// Strings iterates over every string value at or below v (see [Document.Strings]).
func (v Value) Strings() iter.Seq2[Path, string] {
	return func(yield func(Path, string) bool) {
		stop := errors.New("stop")
		_ = v.Walk(func(n Node) error {
			if n.Embedded || n.Value.Type() != TypeString {
				return nil
			}
			if !yield(n.Path, n.Value.Str()) {
				return stop
			}
			return nil
		})
	}
}
