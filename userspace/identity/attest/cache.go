package attest

import (
	"container/list"
	"sync"
)

// fileKey identifies one version of one file.
type fileKey struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // nanoseconds
}

// digestCache is a bounded LRU of file versions to measurements.
type digestCache struct {
	mu    sync.Mutex
	cap   int
	order *list.List // front = most recently used; values are *cacheEntry
	byKey map[fileKey]*list.Element
}

type cacheEntry struct {
	key fileKey
	m   Measurement
}

func newDigestCache(capacity int) *digestCache {
	return &digestCache{cap: capacity, order: list.New(), byKey: make(map[fileKey]*list.Element)}
}

func (c *digestCache) get(k fileKey) (Measurement, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[k]
	if !ok {
		return "", false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).m, true
}

func (c *digestCache) put(k fileKey, m Measurement) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[k]; ok {
		e.Value.(*cacheEntry).m = m
		c.order.MoveToFront(e)
		return
	}
	c.byKey[k] = c.order.PushFront(&cacheEntry{key: k, m: m})
	for c.order.Len() > c.cap {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*cacheEntry).key)
	}
}

func (c *digestCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
