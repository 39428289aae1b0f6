package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/meshwarden/meshwarden/loader"
	"github.com/meshwarden/meshwarden/loader/cgroup"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

// demoClientCmd is the hidden subcommand the demo runs inside an agent's cgroup.
const demoClientCmd = "demo-client"

const demoPolicy = `security_mesh:
  global:
    tls_min_version: "1.3"
    credential_rotation_interval_ms: 600000
    audit_scope: "FULL_MESH"
  domains:
    - name: "agent_memory"
      tier: "PLAINTEXT"
      allowed_roles: ["RETRIEVER", "ORCHESTRATOR"]
      metadata_masking: true
      audit_level: "FULL_MESH"
      match: {destinations: [data]}
      detectors:
        - {type: ssn, action: redact}
  zones:
    - {name: tools, cidrs: ["127.0.0.2/32"]}
    - {name: data, cidrs: ["127.0.0.3/32"]}
    - {name: blocked, cidrs: ["127.0.0.4/32"]}
    - {name: control, cidrs: ["127.0.0.5/32"]}
  agents:
    - {id: orchestrator, role: ORCHESTRATOR, zone: control, cgroup: %[1]s/agents/orchestrator}
    - {id: retriever, role: RETRIEVER, zone: control, cgroup: %[1]s/agents/retriever}
  segmentation:
    - {from: control, to: tools, action: ALLOW}
    - {from: control, to: data, action: REDIRECT}
    - {from: control, to: blocked, action: DENY}
  default_action: DENY
  enforcer:
    address4: 127.0.0.1
    port: %[2]d
    cgroup: %[1]s/enforcer
`

// cmdDemo shows the datapath on this machine: two agents, three backends, one allowed, one
// denied and one redirected request with their audit lines. It removes everything it made.
func cmdDemo(args []string, stdout, stderr io.Writer) int {
	if len(args) != 0 {
		fmt.Fprintln(stderr, "usage: meshwarden demo")
		return exitUsage
	}
	if err := demo(stdout); err != nil {
		fmt.Fprintln(stderr, "meshwarden demo:", err)
		return exitFailure
	}
	return exitOK
}

func demo(out io.Writer) (err error) {
	if os.Geteuid() != 0 {
		return errors.New("the demo loads eBPF programs: run it as root")
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	root, err := cgroup.Root()
	if err != nil {
		return err
	}
	b := make([]byte, 4)
	rand.Read(b)
	name := "meshwarden-demo-" + hex.EncodeToString(b)
	dir, err := os.MkdirTemp("", name)
	if err != nil {
		return fmt.Errorf("create demo directory: %w", err)
	}
	pinDir := filepath.Join("/sys/fs/bpf", name, "v1")
	defer func() {
		err = errors.Join(err, loader.Uninstall(pinDir), cgroup.RemoveTree(filepath.Join(root, name), true), os.RemoveAll(dir))
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	backends := map[string]string{"tools": "127.0.0.2", "data": "127.0.0.3", "blocked": "127.0.0.4"}
	urls := map[string]string{}
	for zone, ip := range backends {
		u, stop, err := demoBackend(ip, zone)
		if err != nil {
			return err
		}
		defer stop()
		urls[zone] = u
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	cfg := filepath.Join(dir, "security_mesh.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(demoPolicy, name, port)), 0o600); err != nil {
		return fmt.Errorf("write demo policy: %w", err)
	}
	auditLog := filepath.Join(dir, "audit.jsonl")
	fmt.Fprintf(out, "== policy %s\n   agents orchestrator, retriever in zone control; control->tools ALLOW, control->data REDIRECT, control->blocked DENY\n", cfg)

	daemon := exec.CommandContext(ctx, self, "run", "--config", cfg, "--state-dir", dir, "--audit-log", auditLog, "--pin-dir", pinDir, "--log-level", "warn", "--metrics-addr", "127.0.0.1:0")
	daemon.Stderr = os.Stderr
	if err := daemon.Start(); err != nil {
		return fmt.Errorf("start daemon: %w", err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			daemon.Process.Signal(syscall.SIGTERM)
			daemon.Wait()
		}
	}
	defer stop()
	if err := waitForLine(ctx, auditLog, "enforcer listening"); err != nil {
		return fmt.Errorf("daemon did not come up: %w", err)
	}
	fmt.Fprintf(out, "== daemon running (pid %d), audit log %s\n", daemon.Process.Pid, auditLog)

	steps := []struct{ agent, zone, expect string }{
		{"orchestrator", "tools", "ALLOW: straight to the backend"},
		{"retriever", "blocked", "DENY: connect() fails with EPERM"},
		{"orchestrator", "data", "REDIRECT: through the enforcer, the agent still gets the real answer"},
	}
	for _, s := range steps {
		fmt.Fprintf(out, "\n-- %s -> %s (%s)\n", s.agent, urls[s.zone], s.expect)
		pid, result, err := demoRequest(ctx, self, filepath.Join(root, name, "agents", s.agent), urls[s.zone])
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "   agent pid %d got: %s\n", pid, result)
		if err := printAuditFor(ctx, out, auditLog, pid); err != nil {
			return err
		}
	}
	// Stopping the daemon signs a last checkpoint; then the chain is checked as an auditor would.
	stop()
	fmt.Fprintf(out, "\n== daemon stopped; meshwarden audit verify %s\n", auditLog)
	verify, err := exec.CommandContext(ctx, self, "audit", "verify", auditLog).CombinedOutput()
	for _, l := range strings.Split(strings.TrimSpace(string(verify)), "\n") {
		fmt.Fprintln(out, "   "+l)
	}
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	fmt.Fprintln(out, "\n== cleaning up: programs detached, cgroups removed")
	return nil
}

// demoBackend serves one HTTP answer naming its zone on ip and returns its URL.
func demoBackend(ip, zone string) (string, func(), error) {
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		return "", nil, fmt.Errorf("listen for %s backend: %w", zone, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from the %s backend", zone)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/" + zone, func() { srv.Close() }, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// demoRequest runs `meshwarden demo-client URL` inside the agent's cgroup.
func demoRequest(ctx context.Context, self, cg, url string) (int, string, error) {
	fd, err := cgroup.Open(cg)
	if err != nil {
		return 0, "", err
	}
	defer fd.Close()
	cmd := exec.CommandContext(ctx, self, demoClientCmd, url)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(fd.Fd())}
	outb, err := cmd.Output()
	if err != nil && cmd.ProcessState == nil {
		return 0, "", fmt.Errorf("run demo client: %w", err)
	}
	return cmd.ProcessState.Pid(), strings.TrimSpace(string(outb)), nil
}

// cmdDemoClient does one GET and prints the answer or the error.
func cmdDemoClient(args []string, stdout, _ io.Writer) int {
	if len(args) != 1 {
		return exitUsage
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(args[0])
	if err != nil {
		fmt.Fprintln(stdout, "error:", err)
		return exitFailure
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Fprintf(stdout, "%s %q\n", resp.Status, body)
	return exitOK
}

// waitForLine waits until the file has a line containing s.
func waitForLine(ctx context.Context, path, s string) error {
	for {
		if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), s) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// printAuditFor prints the audit lines of pid once its flow record (and, for a redirect,
// its request record) has arrived. The enforcer may write before the kernel's flow line is
// read from the ring buffer, so lines are printed in log order, not decision order.
func printAuditFor(ctx context.Context, out io.Writer, path string, pid int) error {
	deadline := time.Now().Add(3 * time.Second)
	for {
		lines, done := auditLinesFor(path, pid)
		if done || time.Now().After(deadline) {
			if len(lines) == 0 {
				return fmt.Errorf("no audit line for pid %d", pid)
			}
			for _, l := range lines {
				fmt.Fprintln(out, "   audit:", l)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// auditLinesFor returns pid's audit records, one readable line each (as `audit tail` prints
// them), and whether all the records the demo waits for have arrived.
func auditLinesFor(path string, pid int) ([]string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	var lines []string
	flow, request := "", false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		r, err := audit.ParseRecord(sc.Bytes())
		if err != nil || int(r.PID) != pid {
			continue
		}
		lines = append(lines, audit.FormatText(&r))
		if r.Kind == audit.KindFlow {
			flow = r.Verdict
		}
		request = request || r.Kind == audit.KindRequest
	}
	// The kernel's flow line always comes; a redirected flow also gets the enforcer's line.
	return lines, flow != "" && (flow != "REDIRECT" || request)
}
