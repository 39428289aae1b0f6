package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"
)

// lostCheckInterval is how often a following stream reports events lost to a slow reader.
const lostCheckInterval = time.Second

// Server serves the operator API.
type Server struct {
	status func(context.Context) (Status, error)
	hub    *Hub
	log    *slog.Logger
	revoke RevokeFunc // nil: identity revoke is not served
}

// NewServer returns a Server that answers status requests with status and streams hub's events.
func NewServer(status func(context.Context) (Status, error), hub *Hub, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	return &Server{status: status, hub: hub, log: log}
}

// Listen creates the socket at path with mode 0600. A socket left by a daemon that is gone is
// replaced; one that a running daemon answers on is an error.
func Listen(ctx context.Context, path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("operator API socket %s: exists and is not a socket", path)
		}
		var d net.Dialer
		if c, err := d.DialContext(ctx, "unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("operator API socket %s: another daemon answers on it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale operator API socket: %w", err)
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("operator API listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("operator API socket mode: %w", err)
	}
	return ln, nil
}

// Serve answers on ln until ctx ends; ln is closed (and its socket file removed) on return.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", s.handleStatus)
	mux.HandleFunc("GET /v1/events", s.handleEvents)
	mux.HandleFunc("POST /v1/identity/revoke", s.handleRevoke)
	// Go's profiler, for an operator chasing CPU or memory: root-only like the rest, never on a
	// TCP port (`curl --unix-socket <state-dir>/meshwarden.sock http://mw/debug/pprof/profile`).
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	srv := &http.Server{
		Handler:           rootOnly(mux, s.log),
		ConnContext:       withPeer,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	stop := context.AfterFunc(ctx, func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	})
	defer stop()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("operator API on %s: %w", ln.Addr(), err)
	}
	return nil
}

// rootOnly refuses every request whose peer is not uid 0.
func rootOnly(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := peerFrom(r.Context())
		if p.err != nil || p.uid != 0 {
			log.Warn("operator API: refused a caller that is not root", "uid", p.uid, "pid", p.pid, "err", p.err)
			http.Error(w, "meshwarden operator API: root only", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.status(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(st)
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	f, err := filterFrom(r.URL.Query())
	if err != nil {
		http.Error(w, "bad since: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	flusher, _ := w.(http.Flusher)
	flush := func() {
		if flusher != nil {
			flusher.Flush()
		}
	}
	if !f.Follow {
		for _, e := range s.hub.Recent(f) {
			if enc.Encode(e) != nil {
				return
			}
		}
		return
	}
	// Following without a start time streams new events only, as `tail -f` does.
	past, sub := s.hub.Subscribe(f, !f.Since.IsZero())
	defer s.hub.Unsubscribe(sub)
	for _, e := range past {
		if enc.Encode(e) != nil {
			return
		}
	}
	flush()
	tick := time.NewTicker(lostCheckInterval)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case e := <-sub.C:
			if enc.Encode(e) != nil {
				return
			}
			for n := len(sub.C); n > 0; n-- { // write what is waiting before one flush
				if enc.Encode(<-sub.C) != nil {
					return
				}
			}
			flush()
		case <-tick.C:
			if n := sub.TakeLost(); n > 0 {
				if enc.Encode(Event{Time: time.Now(), Kind: KindLost, Lost: n}) != nil {
					return
				}
				flush()
			}
		}
	}
}
