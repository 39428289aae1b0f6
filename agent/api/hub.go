package api

import (
	"sync"
	"sync/atomic"
)

// DefaultHubSize is how many recent events a Hub keeps for readers that ask for the past.
const DefaultHubSize = 4096

// subscriberBuffer is how many events may wait for one slow reader before it loses some.
const subscriberBuffer = 1024

// Hub fans events out to live readers and keeps the most recent ones. Publish never blocks:
// a reader that falls behind loses events and is told how many.
type Hub struct {
	mu   sync.Mutex
	ring []Event
	next int  // where the next event goes
	full bool // the ring has wrapped
	subs map[*Subscription]struct{}
}

// NewHub returns a Hub that keeps the last size events (DefaultHubSize when size <= 0).
func NewHub(size int) *Hub {
	if size <= 0 {
		size = DefaultHubSize
	}
	return &Hub{ring: make([]Event, size), subs: map[*Subscription]struct{}{}}
}

// Subscription is one live reader.
type Subscription struct {
	C      <-chan Event
	ch     chan Event
	filter Filter
	lost   atomic.Uint64
}

// TakeLost returns how many events were dropped for this reader since the last call.
func (s *Subscription) TakeLost() uint64 { return s.lost.Swap(0) }

// Publish records e and hands it to every reader whose filter matches it.
func (h *Hub) Publish(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ring[h.next] = e
	h.next++
	if h.next == len(h.ring) {
		h.next, h.full = 0, true
	}
	for s := range h.subs {
		if !s.filter.Match(e) {
			continue
		}
		select {
		case s.ch <- e:
		default:
			s.lost.Add(1)
		}
	}
}

// Recent returns the kept events that match f, oldest first.
func (h *Hub) Recent(f Filter) []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.recentLocked(f)
}

func (h *Hub) recentLocked(f Filter) []Event {
	var out []Event
	add := func(es []Event) {
		for _, e := range es {
			if f.Match(e) {
				out = append(out, e)
			}
		}
	}
	if h.full {
		add(h.ring[h.next:])
	}
	add(h.ring[:h.next])
	return out
}

// Subscribe returns the kept events that match f (when withPast) and a Subscription that gets
// every later matching event, with no gap or overlap between the two. Call Unsubscribe when done.
func (h *Hub) Subscribe(f Filter, withPast bool) ([]Event, *Subscription) {
	ch := make(chan Event, subscriberBuffer)
	s := &Subscription{C: ch, ch: ch, filter: f}
	h.mu.Lock()
	defer h.mu.Unlock()
	var past []Event
	if withPast {
		past = h.recentLocked(f)
	}
	h.subs[s] = struct{}{}
	return past, s
}

// Unsubscribe stops deliveries to s.
func (h *Hub) Unsubscribe(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, s)
}

// Subscribers is the number of live readers.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}
