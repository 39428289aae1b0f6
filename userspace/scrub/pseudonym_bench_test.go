package scrub

import (
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"
)

// BenchmarkPseudonymExchange is one JSON-RPC exchange as the enforcer makes it: the request's id
// hidden, the pseudonym the server echoes (read from the wire as a json.Number) revealed, then
// forgotten.
func BenchmarkPseudonymExchange(b *testing.B) {
	for _, c := range []struct {
		name string
		id   func(i int) any
	}{
		{"number", func(i int) any { return json.Number(strconv.Itoa(i%1000 + 1)) }},
		{"string", func(i int) any { return "req-" + strconv.Itoa(i%1000) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := mustPseudonymizer(b, 0)
			ids := make([]any, 1000)
			for i := range ids {
				ids[i] = c.id(i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				pseudo, err := p.Pseudonym(KindJSONRPCID, ids[i%len(ids)])
				if err != nil {
					b.Fatal(err)
				}
				echoed := pseudo
				if _, isStr := pseudo.(string); !isStr {
					echoed = json.Number(pseudo.(json.Number))
				}
				if _, ok := p.Reveal(KindJSONRPCID, echoed); !ok {
					b.Fatal("not revealed")
				}
				p.Forget(KindJSONRPCID, echoed)
			}
		})
	}
}

// BenchmarkPseudonymParallel is many connections of one flow sharing its Pseudonymizer.
func BenchmarkPseudonymParallel(b *testing.B) {
	p := mustPseudonymizer(b, 0)
	b.ReportAllocs()
	b.SetParallelism(8)
	var workers atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		base := int(workers.Add(1)) * 1000 // ids of one worker only: another's Forget must not hit them
		i := 0
		for pb.Next() {
			i++
			id := json.Number(strconv.Itoa(base + i%1000))
			pseudo, err := p.Pseudonym(KindJSONRPCID, id)
			if err != nil {
				b.Fatal(err)
			}
			if _, ok := p.Reveal(KindJSONRPCID, pseudo); !ok {
				b.Fatal("not revealed")
			}
			p.Forget(KindJSONRPCID, pseudo)
		}
	})
}
