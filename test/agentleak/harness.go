// Package agentleak replays the AgentLeak scenarios through a real Meshwarden daemon and
// measures the full-mesh audit: coverage of every channel, leak prevention, utility. README.md
// beside this file says what is staged and how each figure is counted.
package agentleak

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/meshwarden/meshwarden/test/lab"
)

// Config configures a replay.
type Config struct {
	Repo string       // module root: the agent program is built from it
	Bins lab.Binaries // the daemon, as lab.Build made it
	// Base is the /16 of the loopback network the services live in (127.91.0.0 when unset).
	Base netip.Addr
	// ReloadTimeout bounds the wait for a policy reload (15 s); SettleTimeout the wait for
	// a run's records after its agents ended (5 s); Quiet is how long without a new record
	// ends that wait early when records are missing (300 ms).
	ReloadTimeout, SettleTimeout, Quiet time.Duration
	// WorkDir, when set, is where plans and agent logs go, kept afterwards; else a temporary
	// directory that is removed.
	WorkDir string
}

func (c Config) withDefaults() Config {
	if !c.Base.IsValid() {
		c.Base = netip.MustParseAddr("127.91.0.0")
	}
	if c.ReloadTimeout == 0 {
		c.ReloadTimeout = 15 * time.Second
	}
	if c.SettleTimeout == 0 {
		c.SettleTimeout = 5 * time.Second
	}
	if c.Quiet == 0 {
		c.Quiet = 300 * time.Millisecond
	}
	return c
}

// Harness is one daemon, its services and Redis, reused for every scenario.
type Harness struct {
	cfg      Config
	mesh     *lab.Mesh
	top      Topology
	redis    *Redis
	services *Services
	feed     *Feed
	stop     context.CancelFunc // stops following the audit log
	agentBin string
	dir      string
}

// Open builds the agent, starts Redis and the services, and prepares the mesh; the daemon
// starts with the first scenario's policy. Everything ends with t's cleanups.
func Open(ctx context.Context, t lab.T, cfg Config) (*Harness, error) {
	cfg = cfg.withDefaults()
	dir, err := workDir(t, cfg.WorkDir)
	if err != nil {
		return nil, err
	}
	h := &Harness{cfg: cfg, dir: dir}
	if h.agentBin, err = BuildAgent(cfg.Repo, dir); err != nil {
		return nil, err
	}
	h.mesh = lab.New(t, cfg.Bins)
	if err := h.startServices(ctx); err != nil {
		return nil, err
	}
	t.Cleanup(h.close)
	return h, nil
}

// workDir returns dir, created, or a temporary directory removed with t's cleanups.
func workDir(t lab.T, dir string) (string, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("create work directory: %w", err)
		}
		return dir, nil
	}
	dir, err := os.MkdirTemp("", "agentleak-")
	if err != nil {
		return "", fmt.Errorf("create work directory: %w", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir, nil
}

// startServices picks a port free on every service address and starts Redis and the
// services there.
func (h *Harness) startServices(ctx context.Context) error {
	var last error
	for range 10 {
		port, err := freePort(h.cfg.Base)
		if err != nil {
			return err
		}
		top, err := NewTopology(h.cfg.Base, port)
		if err != nil {
			return err
		}
		redis, err := StartRedis(ctx, netip.AddrPortFrom(top.Redis, port), h.dir)
		if err != nil {
			last = err
			continue
		}
		svc, err := StartServices(ctx, top, redis.Addr)
		if err != nil {
			redis.Stop()
			last = err
			continue
		}
		h.top, h.redis, h.services = top, redis, svc
		return nil
	}
	return fmt.Errorf("start the services: %w", last)
}

// freePort returns a port the kernel finds free on an address of base's network.
func freePort(base netip.Addr) (uint16, error) {
	b := base.As4()
	ln, err := net.Listen("tcp", netip.AddrFrom4([4]byte{127, b[1], 1, 1}).String()+":0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return uint16(ln.Addr().(*net.TCPAddr).Port), nil
}

func (h *Harness) close() {
	if h.stop != nil {
		h.stop()
	}
	if h.services != nil {
		h.services.Close()
	}
	if h.redis != nil {
		h.redis.Stop()
	}
}

// AuditLog is the daemon's audit log.
func (h *Harness) AuditLog() string { return h.mesh.AuditLog }

// startDaemon starts the daemon with the policy file as it is and follows its audit log.
func (h *Harness) startDaemon() {
	h.mesh.Start()
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	h.feed = FollowAudit(ctx, h.mesh.AuditLog)
}

// newRunID returns a fresh run id: the first segment of every path of the run.
func newRunID(behaviour string) (string, error) {
	if behaviour == "" {
		return "", errors.New("run id: no behaviour")
	}
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("run id: %w", err)
	}
	return behaviour[:1] + hex.EncodeToString(b), nil
}
