package protocol

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// The rooms of bodyAlloc are sized to keep it within the 2,304-byte allocation size class: a
// field added to Body, Message or Document that pushes it over costs every body 384 bytes.
func TestBodyAllocSize(t *testing.T) {
	if n := unsafe.Sizeof(bodyAlloc{}); n > 2304 {
		t.Errorf("bodyAlloc is %d bytes, over the 2,304-byte size class: trim its rooms", n)
	}
}

// A document parsed into a body's room is the document parsed on its own, whether it fits the
// room, outgrows it, or is too large to try.
func TestParseJSONRoom(t *testing.T) {
	var docs []string
	for n := range 40 {
		members := make([]string, n)
		for i := range members {
			members[i] = fmt.Sprintf(`"k%d":[%d,{"x":"a,b:c[d"}]`, i, i)
		}
		docs = append(docs, "{"+strings.Join(members, ",")+"}")
		elems := make([]string, n)
		for i := range elems {
			elems[i] = strings.Repeat("[", i%5) + `"s"` + strings.Repeat("]", i%5)
		}
		docs = append(docs, "["+strings.Join(elems, ",")+"]")
		// Flat objects estimate about twice their values: from 12 members on they are tried
		// in the room and outgrow it.
		flat := make([]string, n)
		for i := range flat {
			flat[i] = fmt.Sprintf(`"a%d":%d`, i, i)
		}
		docs = append(docs, "{"+strings.Join(flat, ",")+"}", `{"o":{`+strings.Join(flat, ",")+`}}`)
	}
	docs = append(docs, `7`, `"x"`, `{}`, `[]`, `[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]`)
	lim := Limits{}.withDefaults()
	for _, src := range docs {
		want, err := ParseJSON([]byte(src), lim)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		got, err := parseJSON([]byte(src), lim, &docAlloc{})
		if err != nil {
			t.Fatalf("%s: in a room: %v", src, err)
		}
		if !slices.Equal(got.nodes, want.nodes) || !slices.Equal(got.kids, want.kids) {
			t.Errorf("%s: parsed in a room differs from parsed alone", src)
		}
	}
}

// A JSON-RPC id copied into the room is not written over by appending to it.
func TestRPCIDRoom(t *testing.T) {
	doc, err := ParseJSON([]byte(`{"jsonrpc":"2.0","id":"abc","method":"ping"}`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	one := &rpcBodyOne{}
	b, err := rpcFromDoc(doc, one)
	if err != nil {
		t.Fatal(err)
	}
	id := b.Messages[0].ID
	_ = append(id, "xyz"...)
	if string(id) != `"abc"` || string(one.id[:len(id)]) != `"abc"` || one.id[len(id)] != 0 {
		t.Errorf("id %q, room %q", id, one.id[:])
	}
}
