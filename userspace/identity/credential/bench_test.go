package credential

import (
	"context"
	"testing"
)

// BenchmarkIssue is the sender's cost of one credential (once per agent per rotation).
func BenchmarkIssue(b *testing.B) {
	m := newMesh(b, 0)
	s := m.spec()
	for b.Loop() {
		if _, err := m.issuer.Issue(context.Background(), s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPresent is the sender's cost per request: one presentation (an HMAC).
func BenchmarkPresent(b *testing.B) {
	m := newMesh(b, 0)
	c := m.issue(b)
	for b.Loop() {
		if _, err := c.Present(m.clk.Now(), m.binding, nodeB, Request{ExchangeID: "exchange-0001"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkManagerCurrent is the cost of looking up an agent's current credential.
func BenchmarkManagerCurrent(b *testing.B) {
	m := newMesh(b, 0)
	mgr := NewManager(m.issuer, m.clk, quiet)
	defer mgr.Close()
	if err := mgr.Start(context.Background(), agent, StaticSpec(m.spec())); err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := mgr.Current(agent); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyPresentation is the receiver's cost per request once it has seen the
// credential: cache lookup, time/audience/revocation checks, one HMAC, replay cache insert.
func BenchmarkVerifyPresentation(b *testing.B) {
	m := newMesh(b, 0)
	v, err := NewVerifier(VerifierConfig{Bundle: m.auth, Self: nodeB, Clock: m.clk, ReplayCapacity: 2*b.N + 4096})
	if err != nil {
		b.Fatal(err)
	}
	c := m.issue(b)
	ps := make([]string, b.N)
	for i := range ps {
		ps[i] = m.present(b, c)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := v.Verify(ps[i], m.binding, nodeA); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyPresentationNewCredential is the receiver's cost for the first request with
// a credential it has not seen: the above plus parsing and one Ed25519 verification.
func BenchmarkVerifyPresentationNewCredential(b *testing.B) {
	m := newMesh(b, 0)
	v, err := NewVerifier(VerifierConfig{Bundle: m.auth, Self: nodeB, Clock: m.clk, ReplayCapacity: 2*b.N + 4096, CacheCapacity: b.N + 1})
	if err != nil {
		b.Fatal(err)
	}
	ps := make([]string, b.N)
	for i := range ps {
		ps[i] = m.present(b, m.issue(b))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := v.Verify(ps[i], m.binding, nodeA); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPresentAndVerify is one request end to end: Current, Present, Verify.
func BenchmarkPresentAndVerify(b *testing.B) {
	m := newMesh(b, 0)
	mgr := NewManager(m.issuer, m.clk, quiet)
	defer mgr.Close()
	if err := mgr.Start(context.Background(), agent, StaticSpec(m.spec())); err != nil {
		b.Fatal(err)
	}
	v, err := NewVerifier(VerifierConfig{Bundle: m.auth, Self: nodeB, Clock: m.clk, ReplayCapacity: 2*b.N + 4096})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := mgr.Present(agent, m.binding, nodeB, Request{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Verify(p.Value(), m.binding, nodeA); err != nil {
			b.Fatal(err)
		}
	}
}
