package protocol_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

func readAll(t *testing.T, r io.Reader, lim protocol.Limits) ([]protocol.Event, error) {
	t.Helper()
	sr := protocol.NewSSEReader(r, lim)
	var evs []protocol.Event
	for {
		ev, err := sr.Next()
		if errors.Is(err, io.EOF) {
			return evs, nil
		}
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
}

type evBrief struct {
	Type, Data, ID string
	HasData, HasID bool
	Retry          int
}

func evBriefs(evs []protocol.Event) []evBrief {
	var out []evBrief
	for _, e := range evs {
		out = append(out, evBrief{e.Type, e.Data, e.ID, e.HasData, e.HasID, e.Retry})
	}
	return out
}

func TestSSEReaderHandlesEveryLineEnding(t *testing.T) {
	want := []evBrief{
		{Type: "message", Data: "first\nsecond", ID: "1", HasData: true, HasID: true, Retry: -1},
		{Data: "x", HasData: true, Retry: 2500},
	}
	for name, stream := range map[string]string{
		"LF":    "event: message\nid: 1\ndata: first\ndata: second\n\ndata:x\nretry: 2500\n\n",
		"CRLF":  "event: message\r\nid: 1\r\ndata: first\r\ndata: second\r\n\r\ndata:x\r\nretry: 2500\r\n\r\n",
		"CR":    "event: message\rid: 1\rdata: first\rdata: second\r\rdata:x\rretry: 2500\r\r",
		"mixed": "event: message\r\nid: 1\rdata: first\ndata: second\r\n\rdata:x\nretry: 2500\r\n\n",
	} {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(stream)
			if oneByte {
				r = iotest.OneByteReader(r) // a CR and its LF arrive in different reads
			}
			evs, err := readAll(t, r, protocol.Limits{})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := evBriefs(evs); !equalBriefs(got, want) {
				t.Errorf("%s (one byte at a time: %v):\n got  %+v\n want %+v", name, oneByte, got, want)
			}
		}
	}
}

func equalBriefs(a, b []evBrief) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSSEReaderFollowsTheFieldRules(t *testing.T) {
	stream := "\xef\xbb\xbf: keep-alive\n\n" + // BOM, a comment-only block
		"data\n\n" + // a data field with no colon: one empty line of data
		"data:  two spaces\nid\n\n" + // only one space is stripped; "id" alone resets the id
		"id: a\x00b\ndata: nul id ignored\n\n" +
		"retry: 12x\nunknown: field\ndata: bad retry ignored\n\n" +
		"data: {\"a\":1}\ndata: \n\n" // a trailing empty data line
	evs, err := readAll(t, strings.NewReader(stream), protocol.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []evBrief{
		{Retry: -1},
		{Data: "", HasData: true, Retry: -1},
		{Data: " two spaces", HasData: true, HasID: true, Retry: -1},
		{Data: "nul id ignored", HasData: true, Retry: -1},
		{Data: "bad retry ignored", HasData: true, Retry: -1},
		{Data: "{\"a\":1}\n", HasData: true, Retry: -1},
	}
	if got := evBriefs(evs); !equalBriefs(got, want) {
		t.Errorf("\n got  %+v\n want %+v", got, want)
	}
	if len(evs[0].Comments) != 1 || evs[0].Comments[0] != " keep-alive" {
		t.Errorf("comments = %q", evs[0].Comments)
	}
}

func TestSSEReaderReportsAStreamCutInsideAnEvent(t *testing.T) {
	evs, err := readAll(t, strings.NewReader("data: whole\n\ndata: cut"), protocol.Limits{})
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(evs) != 1 {
		t.Errorf("events %d, err %v; want 1 and ErrUnexpectedEOF", len(evs), err)
	}
}

func TestSSEReaderEnforcesLimits(t *testing.T) {
	long := "data: " + strings.Repeat("x", 100) + "\n\n"
	if _, err := readAll(t, strings.NewReader(long), protocol.Limits{MaxLineBytes: 50}); !errors.Is(err, protocol.ErrTooLarge) {
		t.Errorf("long line: %v", err)
	}
	many := strings.Repeat("data: 0123456789\n", 20) + "\n"
	if _, err := readAll(t, strings.NewReader(many), protocol.Limits{MaxEventBytes: 100}); !errors.Is(err, protocol.ErrTooLarge) {
		t.Errorf("big event: %v", err)
	}
}

// blockingReader hands out its chunks one Read at a time, then blocks: it stands for a live
// stream whose next event has not been sent yet.
type blockingReader struct {
	chunks []string
	block  chan struct{}
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		<-r.block
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	r.chunks = r.chunks[1:]
	return n, nil
}

func TestSSEReaderYieldsEachEventWithoutWaitingForTheNext(t *testing.T) {
	for _, first := range []string{"data: one\n\n", "data: one\r\r", "data: one\r\n\r\n"} {
		r := &blockingReader{chunks: []string{first}, block: make(chan struct{})}
		sr := protocol.NewSSEReader(r, protocol.Limits{})
		ev, err := sr.Next() // would hang if the reader waited for more input
		if err != nil || ev.Data != "one" {
			t.Errorf("%q: %+v, %v", first, ev, err)
		}
		close(r.block)
	}
}

func TestSSEWriterOutputParsesBackToTheSameEvents(t *testing.T) {
	in := []protocol.Event{
		{Type: "message", Data: "line one\nline two\r\nline three\rend", HasData: true, ID: "42", HasID: true, Retry: -1},
		{Data: "", HasData: true, Retry: 1000},
		{Comments: []string{" ping"}, Retry: -1},
		{Data: "  leading spaces", HasData: true, ID: "", HasID: true, Retry: -1},
	}
	var buf bytes.Buffer
	w := protocol.NewSSEWriter(&buf)
	for _, e := range in {
		if err := w.WriteEvent(e); err != nil {
			t.Fatal(err)
		}
	}
	out, err := readAll(t, &buf, protocol.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	in[0].Data = "line one\nline two\nline three\nend" // line breaks normalise to LF
	if got, want := evBriefs(out), evBriefs(in); !equalBriefs(got, want) {
		t.Errorf("\n got  %+v\n want %+v", got, want)
	}
	if err := w.WriteEvent(protocol.Event{Type: "a\nb", Retry: -1}); !errors.Is(err, protocol.ErrMalformed) {
		t.Errorf("event type with a newline: %v", err)
	}
}

func TestSSERelayWritesUnchangedEventsVerbatim(t *testing.T) {
	stream := "event: message\r\ndata:{\"x\":1}\r\n\r\n: ping\r\n\r\n"
	evs, err := readAll(t, strings.NewReader(stream), protocol.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := protocol.NewSSEWriter(&buf)
	for _, e := range evs {
		if err := w.Relay(e); err != nil {
			t.Fatal(err)
		}
	}
	if buf.String() != stream {
		t.Errorf("relayed %q, want %q", buf.String(), stream)
	}
}

func TestSSEReaderDoesNotWaitOnAShortFirstChunk(t *testing.T) {
	r := &blockingReader{chunks: []string{"\n"}, block: make(chan struct{})}
	sr := protocol.NewSSEReader(r, protocol.Limits{})
	if ev, err := sr.Next(); err != nil || ev.HasData {
		t.Errorf("%+v, %v", ev, err)
	}
	close(r.block)
}
