package agentleak

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// Services are the receivers of the replay, each an HTTP server on its own address of the
// topology: the user-facing sink, the memory service (in front of Redis), the log collector,
// the artifact store, the A2A endpoint of every agent and of the harness's own peer, and one
// MCP server per tool clearance level (the tool is named by the path). They log what they
// receive in the Inbox.
type Services struct {
	Inbox   *Inbox
	memory  *memoryStore
	servers []*http.Server
}

// StartServices starts every service of t; memory writes go to the Redis at redis.
func StartServices(ctx context.Context, t Topology, redis netip.AddrPort) (*Services, error) {
	rc, err := DialRESP(ctx, redis)
	if err != nil {
		return nil, err
	}
	s := &Services{Inbox: newInbox(), memory: &memoryStore{redis: rc}}
	for addr, kind := range t.Listeners() {
		var h http.Handler
		switch kind {
		case "user":
			h = sink{inbox: s.Inbox, service: "user", status: http.StatusNoContent}
		case "log":
			h = sink{inbox: s.Inbox, service: "log", status: http.StatusNoContent}
		case "artifact":
			h = sink{inbox: s.Inbox, service: "artifact", status: http.StatusCreated}
		case "memory":
			h = memoryService{inbox: s.Inbox, store: s.memory}
		case "a2a":
			h = a2aPeer{inbox: s.Inbox}
		case "mcp":
			h = mcpServer{inbox: s.Inbox}
		}
		ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, t.Port).String())
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("listen for the %s service: %w", kind, err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second}
		s.servers = append(s.servers, srv)
		go srv.Serve(ln)
	}
	return s, nil
}

// Stored returns what the memory service stored for the write at path: the memory store's
// own copy, read back from Redis.
func (s *Services) Stored(ctx context.Context, path string) ([]byte, bool, error) {
	return s.memory.get(ctx, path)
}

// Close stops every service.
func (s *Services) Close() {
	for _, srv := range s.servers {
		srv.Close()
	}
	s.memory.redis.Close()
}

// memoryStore keeps memory writes in Redis, one key per write.
type memoryStore struct{ redis *RESP }

func memoryKey(path string) string { return "agentleak:memory:" + path }

func (m *memoryStore) set(ctx context.Context, path string, value []byte) error {
	_, err := m.redis.Do(ctx, "SET", memoryKey(path), string(value))
	return err
}

func (m *memoryStore) get(ctx context.Context, path string) ([]byte, bool, error) {
	v, err := m.redis.Do(ctx, "GET", memoryKey(path))
	if errors.Is(err, errNil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	s, _ := v.(string)
	return []byte(s), true, nil
}
