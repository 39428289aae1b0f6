package agentleak

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// Redis is a redis-server the harness runs for the memory service: no persistence, bound to
// an address no zone of the policy covers, so only the memory service (outside the agents'
// cgroups) reaches it.
type Redis struct {
	Addr netip.AddrPort
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan struct{}
}

// StartRedis runs redis-server on addr and waits until it answers PING.
func StartRedis(ctx context.Context, addr netip.AddrPort, dir string) (*Redis, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not found (make deps installs it): %w", err)
	}
	r := &Redis{Addr: addr, done: make(chan struct{})}
	r.cmd = exec.Command(bin, "--bind", addr.Addr().String(), "--port", strconv.Itoa(int(addr.Port())),
		"--save", "", "--appendonly", "no", "--protected-mode", "no", "--dir", dir, "--loglevel", "warning")
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	go func() { r.cmd.Wait(); close(r.done) }()
	deadline, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		c, err := DialRESP(deadline, addr)
		if err == nil {
			_, err = c.Do(deadline, "PING")
			c.Close()
			if err == nil {
				return r, nil
			}
		}
		select {
		case <-r.done:
			return nil, fmt.Errorf("redis-server exited: %s", r.out.String())
		case <-deadline.Done():
			r.Stop()
			return nil, fmt.Errorf("redis-server on %s does not answer: %w", addr, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop ends the server and waits for it.
func (r *Redis) Stop() {
	select {
	case <-r.done:
		return
	default:
	}
	r.cmd.Process.Signal(os.Interrupt)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
	}
}

// DialRESP opens a connection speaking the Redis protocol.
func DialRESP(ctx context.Context, addr netip.AddrPort) (*RESP, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		return nil, fmt.Errorf("dial redis %s: %w", addr, err)
	}
	return newRESP(c), nil
}
