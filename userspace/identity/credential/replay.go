package credential

import (
	"container/heap"
	"sync"
	"time"
)

// DefaultReplayCapacity is the number of presentation ids a verifier remembers by default:
// about 16 MB, enough for ~20,000 presentations a second with the default window and skew.
const DefaultReplayCapacity = 1 << 18

const replayShards = 16

// ReplayCache remembers presentation ids until the end of their validity window. Its memory is
// bounded: when a shard is full it forgets the id closest to expiry and from then on refuses
// every id whose window ends no later than that one's (it can no longer prove those unseen).
// Fresh presentations end later than anything remembered, so a full cache refuses only late,
// old ones, and never accepts a replay.
type ReplayCache struct {
	shards [replayShards]replayShard
}

type replayShard struct {
	mu    sync.Mutex
	seen  map[[16]byte]int64 // id -> end of its window, unix nanoseconds
	order expiryHeap
	floor int64 // ids whose window ends at or before this are refused
	cap   int
}

// NewReplayCache returns a cache remembering up to capacity ids (DefaultReplayCapacity when
// capacity <= 0).
func NewReplayCache(capacity int) *ReplayCache {
	if capacity <= 0 {
		capacity = DefaultReplayCapacity
	}
	per := max(capacity/replayShards, 1)
	c := &ReplayCache{}
	for i := range c.shards {
		c.shards[i] = replayShard{seen: make(map[[16]byte]int64), cap: per}
	}
	return c
}

// Add records id, valid until until, at time now. It returns false when id was seen within its
// window, or cannot be proven unseen because the cache had to forget ids valid that long.
func (c *ReplayCache) Add(id [16]byte, until, now time.Time) bool {
	s := &c.shards[id[0]%replayShards]
	exp, n := until.UnixNano(), now.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.order) > 0 && s.order[0].exp < n {
		delete(s.seen, heap.Pop(&s.order).(expiryEntry).id)
	}
	if _, dup := s.seen[id]; dup || exp <= s.floor {
		return false
	}
	if len(s.seen) >= s.cap {
		oldest := heap.Pop(&s.order).(expiryEntry)
		delete(s.seen, oldest.id)
		s.floor = max(s.floor, oldest.exp)
		if exp <= s.floor {
			return false
		}
	}
	s.seen[id] = exp
	heap.Push(&s.order, expiryEntry{exp: exp, id: id})
	return true
}

// Len returns how many ids are remembered.
func (c *ReplayCache) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.seen)
		s.mu.Unlock()
	}
	return n
}

type expiryEntry struct {
	exp int64
	id  [16]byte
}

// expiryHeap is a min-heap of entries by exp.
type expiryHeap []expiryEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].exp < h[j].exp }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
