package api

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
)

// The daemon's Go profiles are served on the operator socket (root only, as every route there):
// an operator can take a CPU profile of a running enforcer without opening a TCP port.
func TestOperatorSocketServesGoProfiles(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sock := filepath.Join(t.TempDir(), SocketName)
	ln, err := Listen(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	srv := NewServer(func(context.Context) (Status, error) { return Status{}, nil }, NewHub(DefaultHubSize), quiet)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()

	resp, err := NewClient(sock).get(ctx, "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || !strings.Contains(string(body), "goroutine profile:") {
		t.Fatalf("goroutine profile: %v %.200s", err, body)
	}
}
