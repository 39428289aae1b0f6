package credential

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// flakyIssuer fails while fail is set and counts issues.
type flakyIssuer struct {
	is     *Issuer
	fail   atomic.Bool
	issued atomic.Int64
}

func (f *flakyIssuer) Issue(ctx context.Context, s Spec) (*Credential, error) {
	if f.fail.Load() {
		return nil, errors.New("CA unreachable")
	}
	f.issued.Add(1)
	return f.is.Issue(ctx, s)
}

func startRotator(t *testing.T, m *mesh, is CredentialIssuer, lifetime time.Duration) *Rotator {
	t.Helper()
	s := m.spec()
	s.Lifetime = lifetime
	r := NewRotator(RotatorConfig{Issuer: is, Spec: StaticSpec(s), Clock: m.clk, Logger: quiet})
	if err := r.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

// settle waits until the rotator sleeps on its timer, so the fake clock can move.
func settle(t *testing.T, m *mesh) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.clk.WaitForTimers(ctx, 1); err != nil {
		t.Fatal("rotator never went back to sleep")
	}
}

func TestRotatorReissuesAtTwoThirdsOfTheLifetime(t *testing.T) {
	m := newMesh(t, 0)
	r := startRotator(t, m, m.issuer, 3*time.Second)
	first, err := r.Current()
	if err != nil {
		t.Fatal(err)
	}
	settle(t, m)
	m.clk.Set(t0.Add(2*time.Second - time.Millisecond))
	settle(t, m)
	if c, _ := r.Current(); c != first {
		t.Fatal("re-issued before two thirds of the lifetime")
	}
	m.clk.Set(t0.Add(2 * time.Second))
	settle(t, m)
	second, err := r.Current()
	if err != nil || second == first {
		t.Fatalf("not re-issued at two thirds of the lifetime (%v)", err)
	}
	if cl := second.Claims(); !cl.IssuedAt.Equal(t0.Add(2*time.Second)) || !cl.Expiry.Equal(t0.Add(5*time.Second)) || cl.ID == first.Claims().ID {
		t.Fatalf("second credential %+v", cl)
	}
}

func TestCurrentNeverReturnsAnExpiredCredentialAcrossManyLifetimes(t *testing.T) {
	m := newMesh(t, 0)
	const lifetime = 3 * time.Second
	r := startRotator(t, m, m.issuer, lifetime)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var bad atomic.Int64
	for range 4 { // concurrent readers while the rotator works
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				now := m.clk.Now()
				c, err := r.Current()
				if err != nil || !now.Before(c.Claims().Expiry) {
					if bad.Add(1) == 1 {
						t.Logf("now %v err %v c %v", now, err, c)
					}
				}
			}
		})
	}
	step := 37 * time.Millisecond
	ids := map[string]bool{}
	for elapsed := time.Duration(0); elapsed < 10*lifetime; elapsed += step {
		settle(t, m)
		m.clk.Advance(step)
		now := m.clk.Now()
		c, err := r.Current()
		if err != nil {
			t.Fatalf("at +%v: %v", elapsed, err)
		}
		left := c.Claims().Expiry.Sub(now)
		if left <= 0 {
			t.Fatalf("at +%v: Current returned a credential expired %v ago", elapsed, -left)
		}
		if left < lifetime/3-step {
			t.Fatalf("at +%v: only %v left; rotation is late", elapsed, left)
		}
		ids[c.Claims().ID] = true
	}
	close(stop)
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d concurrent Current calls saw no credential or an expired one", bad.Load())
	}
	if len(ids) < 14 { // 10 lifetimes at a rotation every 2/3 lifetime
		t.Fatalf("only %d distinct credentials over 10 lifetimes", len(ids))
	}
}

func TestCurrentFailsClosedRatherThanReturnAnExpiredCredential(t *testing.T) {
	m := newMesh(t, 0)
	is := &flakyIssuer{is: m.issuer}
	r := startRotator(t, m, is, 3*time.Second)
	first, _ := r.Current()
	is.fail.Store(true)
	for m.clk.Now().Before(first.Claims().Expiry) { // rotation keeps failing and retrying
		settle(t, m)
		m.clk.Advance(100 * time.Millisecond)
		c, err := r.Current()
		if m.clk.Now().Before(first.Claims().Expiry) {
			if err != nil || c != first {
				t.Fatalf("while the old credential is valid: %v", err)
			}
		} else if !errors.Is(err, ErrNoCredential) || c != nil {
			t.Fatalf("after it expired: Current = %v, %v; want ErrNoCredential", c, err)
		}
	}
	is.fail.Store(false)
	settle(t, m)
	m.clk.Advance(retryCeiling)
	settle(t, m)
	if c, err := r.Current(); err != nil || c == first {
		t.Fatalf("no recovery after the issuer came back: %v", err)
	}
}

// retryCeiling is more than ca.RetryInterval of a 3 s lifetime.
const retryCeiling = time.Second

func TestTriggerReissuesAtOnce(t *testing.T) {
	m := newMesh(t, 0)
	r := startRotator(t, m, m.issuer, time.Hour)
	first, _ := r.Current()
	settle(t, m)
	r.Trigger()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if c, _ := r.Current(); c != first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Trigger did not re-issue")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestManagerStopsIssuingForARemovedAgent(t *testing.T) {
	m := newMesh(t, 0)
	is := &flakyIssuer{is: m.issuer}
	mgr := NewManager(is, m.clk, quiet)
	defer mgr.Close()
	s := m.spec()
	s.Lifetime = 3 * time.Second
	if err := mgr.Start(context.Background(), agent, StaticSpec(s)); err != nil {
		t.Fatal(err)
	}
	p, err := mgr.Present(agent, m.binding, nodeB, Request{ExchangeID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.verifier.Verify(p.Value(), m.binding, nodeA); err != nil {
		t.Fatal(err)
	}
	mgr.Stop(agent)
	n := is.issued.Load()
	m.clk.Advance(time.Minute)
	if _, err := mgr.Current(agent); !errors.Is(err, ErrNoCredential) {
		t.Fatalf("Current after Stop: %v", err)
	}
	if is.issued.Load() != n {
		t.Fatal("a stopped agent was issued a credential")
	}
	if len(mgr.Agents()) != 0 {
		t.Fatalf("agents after Stop: %v", mgr.Agents())
	}
}
