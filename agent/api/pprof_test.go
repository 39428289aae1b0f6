package api

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
)

// serveOperatorSocket runs the operator API on a socket in a temporary directory until the test
// ends and returns a client of it.
func serveOperatorSocket(t *testing.T) *Client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sock := filepath.Join(t.TempDir(), SocketName)
	ln, err := Listen(ctx, sock)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	srv := NewServer(func(context.Context) (Status, error) { return Status{}, nil }, NewHub(DefaultHubSize), slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return NewClient(sock)
}

// The daemon's Go profiles are served on the operator socket (root only, as every route there):
// an operator can take a CPU profile of a running enforcer without opening a TCP port.
func TestOperatorSocketServesGoProfiles(t *testing.T) {
	c := serveOperatorSocket(t)
	ctx := context.Background()
	resp, err := c.get(ctx, "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !strings.Contains(string(body), "goroutine profile:") {
		t.Fatalf("goroutine profile: %v %.200s", err, body)
	}
	resp, err = c.get(ctx, "/debug/pprof/profile?seconds=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
