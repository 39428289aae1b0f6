package agentleak

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

// Feed follows the daemon's audit log (through rotations) and keeps what the replay needs:
// the system records (reloads), and the other records since the last Take.
type Feed struct {
	mu      sync.Mutex
	system  []audit.Record
	recent  []audit.Record
	total   int
	changed chan struct{} // closed and replaced whenever a record arrives
	err     error
	done    chan struct{}
}

// FollowAudit starts following the audit log at path until ctx ends.
func FollowAudit(ctx context.Context, path string) *Feed {
	f := &Feed{changed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		err := audit.ReadLines(ctx, path, true, 10*time.Millisecond, func(line []byte) error {
			r, err := audit.ParseRecord(line)
			if err != nil {
				return nil // a line of another kind is not the replay's business
			}
			f.add(r)
			return nil
		})
		if err != nil && !errors.Is(err, context.Canceled) {
			f.mu.Lock()
			f.err = fmt.Errorf("follow audit log: %w", err)
			f.mu.Unlock()
		}
	}()
	return f
}

func (f *Feed) add(r audit.Record) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.total++
	if r.Kind == audit.KindSystem {
		f.system = append(f.system, r)
	} else if r.Kind != audit.KindCheckpoint {
		f.recent = append(f.recent, r)
	}
	close(f.changed)
	f.changed = make(chan struct{})
}

// Mark returns the number of system records so far: WaitSystem looks only after it.
func (f *Feed) Mark() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.system)
}

// Take returns the non-system records read since the last Take, and forgets them.
func (f *Feed) Take() []audit.Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.recent
	f.recent = nil
	return out
}

// Peek calls fn with the records read since the last Take, without taking them.
func (f *Feed) Peek(fn func([]audit.Record)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.recent)
}

// Changed returns a channel closed when the next record arrives.
func (f *Feed) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

// Total is the number of records read.
func (f *Feed) Total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

// WaitSystem waits for a system record after mark for which match is true.
func (f *Feed) WaitSystem(ctx context.Context, mark int, what string, match func(audit.Record) bool) (audit.Record, error) {
	for {
		f.mu.Lock()
		for _, r := range f.system[min(mark, len(f.system)):] {
			if match(r) {
				f.mu.Unlock()
				return r, nil
			}
		}
		mark = len(f.system)
		changed, err := f.changed, f.err
		f.mu.Unlock()
		if err != nil {
			return audit.Record{}, err
		}
		select {
		case <-ctx.Done():
			return audit.Record{}, fmt.Errorf("wait for %s: %w", what, ctx.Err())
		case <-f.done:
			return audit.Record{}, fmt.Errorf("wait for %s: the audit log is no longer followed", what)
		case <-changed:
		}
	}
}

// WaitReload waits for the daemon's verdict on the policy with the given digest: nil when
// it was applied, an error carrying the daemon's message when it was refused.
func (f *Feed) WaitReload(ctx context.Context, mark int, digest string) error {
	r, err := f.WaitSystem(ctx, mark, "reload of policy "+digest, func(r audit.Record) bool {
		return strings.HasPrefix(r.Message, "policy reload") && strings.Contains(r.Message, "("+digest+")")
	})
	if err != nil {
		return err
	}
	if !strings.HasPrefix(r.Message, "policy reloaded") {
		return fmt.Errorf("policy %s: %s", digest, r.Message)
	}
	return nil
}
