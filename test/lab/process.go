package lab

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/meshwarden/meshwarden/agent/api"
)

// DaemonPID returns the pid of the running daemon (of its launcher when there is one), 0 when
// it is not running.
func (m *Mesh) DaemonPID() int {
	if m.daemon == nil || m.daemon.Process == nil {
		return 0
	}
	return m.daemon.Process.Pid
}

// CPUTime returns the user plus system CPU time a process has used, from /proc/<pid>/stat.
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: fields are counted after its closing paren.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks, nil
}

// ContextSwitches returns how many times the threads of a process have been switched out so
// far, voluntarily (waiting) and not (preempted), summed from /proc/<pid>/task/*/status.
// Threads that already exited are not counted.
func ContextSwitches(pid int) (voluntary, involuntary int64, err error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		return 0, 0, fmt.Errorf("threads of process %d: none found", pid)
	}
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread exited
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			switch k {
			case "voluntary_ctxt_switches":
				voluntary += n
			case "nonvoluntary_ctxt_switches":
				involuntary += n
			}
		}
	}
	return voluntary, involuntary, nil
}

// Profile writes a CPU profile of the daemon, taken over the next seconds (a decimal number)
// through its operator socket, to path. The returned channel gets the outcome once the profile
// is written.
func (m *Mesh) Profile(path, seconds string) <-chan error {
	done := make(chan error, 1)
	go func() {
		client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", filepath.Join(m.Dir, api.SocketName))
		}}}
		secs, _ := strconv.ParseFloat(seconds, 64)
		resp, err := client.Get(fmt.Sprintf("http://mw/debug/pprof/profile?seconds=%d", max(1, int(secs))))
		if err != nil {
			done <- fmt.Errorf("profile: %w", err)
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			done <- fmt.Errorf("profile: %s", resp.Status)
			return
		}
		f, err := os.Create(path)
		if err != nil {
			done <- err
			return
		}
		if _, err := io.Copy(f, resp.Body); err != nil {
			f.Close()
			done <- fmt.Errorf("write profile %s: %w", path, err)
			return
		}
		done <- f.Close()
	}()
	return done
}
