package audit

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestRecordEncoderKnowsEveryField fails when Record changes: appendRecord (chain.go) writes
// its fields by hand and must learn the change (until then records go through encoding/json).
func TestRecordEncoderKnowsEveryField(t *testing.T) {
	if got := recordLayout(); !slices.Equal(got, recordFields) {
		t.Fatalf("Record's layout changed; update recordFields and appendRecord in chain.go:\n%q", got)
	}
}

// encodingSamples are strings that exercise every escaping rule of encoding/json.
var encodingSamples = []string{
	"", "plain", "agent-1", "<script>&amp;</script>", `quote" back\slash /`, "\x00\x01\x07\x1f\x7f",
	"\b\f\n\r\t", "é 日本 🙂", "\u2028 line \u2029 para", "bad \xff\xfe bytes", "cut \xe2\x80", "\xed\xa0\x80 surrogate",
	"tools/call", "2001:db8::1", "10.0.0.1:443",
}

func fillRandom(r *rand.Rand, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(encodingSamples[r.IntN(len(encodingSamples))])
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt([]int64{0, 1, -1, 42, math.MaxInt32, math.MinInt32}[r.IntN(6)])
	case reflect.Uint64, reflect.Uint32, reflect.Uint:
		v.SetUint([]uint64{0, 1, 7, math.MaxUint32}[r.IntN(4)])
	case reflect.Slice:
		switch r.IntN(4) {
		case 0:
			v.Set(reflect.Zero(v.Type()))
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			s := reflect.MakeSlice(v.Type(), 1+r.IntN(3), 3)
			for i := range s.Len() {
				fillRandom(r, s.Index(i))
			}
			v.Set(s)
		}
	case reflect.Pointer:
		if r.IntN(3) == 0 {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		p := reflect.New(v.Type().Elem())
		fillRandom(r, p.Elem())
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			times := []time.Time{{}, time.Date(2026, 11, 25, 23, 46, 53, 123456789, time.UTC),
				time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", -7*3600-30*60)), time.Unix(1, 0),
				time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 100, time.FixedZone("y", 25*3600))}
			v.Set(reflect.ValueOf(times[r.IntN(len(times))]))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillRandom(r, v.Field(i))
			}
		}
	}
}

// TestEncodeBodyIsEncodingJSON: the hand-made encoding is byte for byte encoding/json's, for
// records with every field set, unset or empty, and strings needing every kind of escape.
func TestEncodeBodyIsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		var rec Record
		fillRandom(r, reflect.ValueOf(&rec).Elem())
		got, gotErr := encodeBody(rec)
		rec.V, rec.Seq, rec.Prev = 0, 0, ""
		want, wantErr := json.Marshal(rec)
		if (gotErr != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("record %d:\n got %s (%v)\nwant %s (%v)", i, got, gotErr, want, wantErr)
		}
	}
}

// BenchmarkEncodeBody measures one request record's encoding, by appendRecord and, as the
// baseline, by encoding/json.
func BenchmarkEncodeBody(b *testing.B) {
	rec := benchRecord()
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeBody(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchRecord() Record {
	return Record{ID: "0193a0c4-7b1e-7cc3-9a4e-3f0c2d1e5a6b", Time: time.Now().UTC(), Node: "node-1", Kind: KindRequest,
		AgentID: "bench", Role: "CODER", Zone: "dev", Source: "127.0.0.1:40000", Destination: "127.0.0.1:8080",
		Protocol: "mcp", ExchangeID: "e-1", Domain: "tools", Tier: "PLAINTEXT", Channel: ChannelToolInput,
		Verdict: "REDIRECT", ReasonCodes: []string{"ok"}, Method: "POST", Path: "/mcp", RPCMethod: "tools/call",
		Tool: "search_documents", Status: 200, BytesIn: 1024, BytesOut: 1100, DurationNS: 123456}
}
