// Package lab builds the world the end-to-end tests and the benchmark run in: the real daemon
// binary, its own cgroup subtree, pin directory and state directory, agents started as real
// processes inside their cgroups, and backends; everything is removed when the owner ends.
package lab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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

	"github.com/meshwarden/meshwarden/loader/cgroup"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

// T is what the lab needs from its owner: *testing.T fits, and so does the benchmark's runner.
type T interface {
	Helper()
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
	Failed() bool
}

// Binaries are the programs the lab runs: the daemon and the test agent.
type Binaries struct{ Meshwarden, Client string }

// Build compiles the daemon and the test agent into dir. repo is the module root.
func Build(repo, dir string) (Binaries, error) {
	b := Binaries{Meshwarden: filepath.Join(dir, "meshwarden"), Client: filepath.Join(dir, "mwclient")}
	for pkg, out := range map[string]string{"./cmd/meshwarden": b.Meshwarden, "./test/agents/mwclient": b.Client} {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("build %s: %w: %s", pkg, err, out)
		}
	}
	return b, nil
}

// mesh is one test's world: its own cgroup subtree, pin directory, state directory,
// enforcer port and backends, all removed when the test ends.
type Mesh struct {
	t        T
	Bins     Binaries
	Name     string // unique: cgroups and pins live under it
	root     string // cgroup2 mount
	Dir      string // state directory and config
	Config   string
	AuditLog string
	PinDir   string
	Port     int // enforcer
	// RunArgs are more flags for `meshwarden run` (later ones win); DaemonLog, when set, gets
	// a copy of the daemon's log output.
	RunArgs   []string
	DaemonLog io.Writer
	// DaemonStdout, when set, gets the daemon's stdout (where --audit-stdout writes).
	DaemonStdout io.Writer
	// Launcher, when set, is the argv prefix the daemon is started with, e.g. nsenter into a
	// network namespace.
	Launcher []string
	daemon   *exec.Cmd
	vars     map[string]any
}

// New makes an empty mesh: nothing runs until WritePolicy and Start.
func New(t T, bins Binaries) *Mesh {
	t.Helper()
	root, err := cgroup.Root()
	if err != nil {
		t.Fatalf("%v", err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	dir, err := os.MkdirTemp("", "mwlab-")
	if err != nil {
		t.Fatalf("create state directory: %v", err)
	}
	m := &Mesh{t: t, Bins: bins, Name: "mwtest-" + hex.EncodeToString(b), root: root, Dir: dir}
	m.Config = filepath.Join(m.Dir, "security_mesh.yaml")
	m.AuditLog = filepath.Join(m.Dir, "audit.jsonl")
	m.PinDir = filepath.Join("/sys/fs/bpf", m.Name, "v1")
	m.Port = FreePort(t)
	m.vars = map[string]any{"Name": m.Name, "Port": m.Port}
	t.Cleanup(func() { os.RemoveAll(m.Dir) })
	t.Cleanup(m.cleanup)
	return m
}

func (m *Mesh) cleanup() {
	m.Stop()
	out, err := exec.Command(m.Bins.Meshwarden, "run", "--uninstall", "--pin-dir", m.PinDir).CombinedOutput()
	if err != nil {
		m.t.Errorf("uninstall: %v: %s", err, out)
	}
	if err := cgroup.RemoveTree(filepath.Join(m.root, m.Name), true); err != nil {
		m.t.Errorf("remove cgroups: %v", err)
	}
	if m.t.Failed() {
		if b, err := os.ReadFile(m.AuditLog); err == nil {
			m.t.Logf("audit log:\n%s", b)
		}
	}
}

// cgroup is the absolute path of a cgroup below this mesh's subtree.
func (m *Mesh) Cgroup(rel string) string { return filepath.Join(m.root, m.Name, rel) }

// writePolicy writes the policy text; %(Name)s-style placeholders {{.Name}} and {{.Port}}
// and any value set with set() are substituted.
func (m *Mesh) WritePolicy(text string) {
	m.t.Helper()
	for k, v := range m.vars {
		text = strings.ReplaceAll(text, "{{."+k+"}}", fmt.Sprint(v))
	}
	if err := m.ReplaceConfig([]byte(text)); err != nil {
		m.t.Fatalf("%v", err)
	}
}

// ReplaceConfig writes the policy file as editors and Kubernetes ConfigMaps do: a new file
// renamed over the old one, so that the daemon's watcher never reads it half written.
func (m *Mesh) ReplaceConfig(data []byte) error {
	tmp := m.Config + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write policy: %w", err)
	}
	if err := os.Rename(tmp, m.Config); err != nil {
		return fmt.Errorf("replace policy: %w", err)
	}
	return nil
}

func (m *Mesh) Set(k string, v any) { m.vars[k] = v }

// start runs the daemon and waits until its enforcer listens.
func (m *Mesh) Start() {
	m.t.Helper()
	before := len(m.Records())
	// Metrics on a port of the daemon's choosing: tests and benchmarks may run side by side.
	args := []string{"run", "--config", m.Config, "--state-dir", m.Dir, "--audit-log", m.AuditLog,
		"--pin-dir", m.PinDir, "--node", "testnode", "--log-level", "warn", "--metrics-addr", "127.0.0.1:0"}
	argv := append(append(append([]string{}, m.Launcher...), m.Bins.Meshwarden), append(args, m.RunArgs...)...)
	m.daemon = exec.Command(argv[0], argv[1:]...)
	m.daemon.Stderr = &prefixWriter{t: m.t, prefix: "daemon: "}
	if m.DaemonLog != nil {
		m.daemon.Stderr = io.MultiWriter(m.daemon.Stderr, m.DaemonLog)
	}
	m.daemon.Stdout = m.DaemonStdout
	if err := m.daemon.Start(); err != nil {
		m.t.Fatalf("%v", err)
	}
	m.WaitRecord(func(r audit.Record, i int) bool {
		return i >= before && r.Kind == audit.KindSystem && strings.HasPrefix(r.Message, "enforcer listening")
	}, "enforcer listening")
}

// stop sends SIGTERM and waits; kill sends SIGKILL.
func (m *Mesh) Stop() { m.signalAndWait(syscall.SIGTERM) }
func (m *Mesh) Kill() { m.signalAndWait(syscall.SIGKILL) }

func (m *Mesh) signalAndWait(sig syscall.Signal) {
	if m.daemon == nil {
		return
	}
	m.daemon.Process.Signal(sig)
	m.daemon.Wait()
	m.daemon = nil
}

func (m *Mesh) HUP() {
	m.t.Helper()
	if err := m.daemon.Process.Signal(syscall.SIGHUP); err != nil {
		m.t.Fatalf("%v", err)
	}
}

// Result is what one agent process printed.
type Result struct {
	PID int
	Out string
	Err error
}

// Run starts a command inside cgroup cg (absolute) and waits for it.
func (m *Mesh) Run(cg string, name string, args ...string) Result {
	m.t.Helper()
	return m.Go(cg, name, args...)()
}

// Go starts a command inside cgroup cg (absolute) and returns a function that waits for it.
func (m *Mesh) Go(cg string, name string, args ...string) func() Result {
	m.t.Helper()
	fd, err := cgroup.Open(cg)
	if err != nil {
		m.t.Fatalf("%v", err)
	}
	defer fd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(fd.Fd())}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		m.t.Fatalf("start %s: %v", name, err)
	}
	return func() Result {
		defer cancel()
		err := cmd.Wait()
		return Result{PID: cmd.Process.Pid, Out: strings.TrimSpace(out.String()), Err: err}
	}
}

// client runs the test agent in the agent cgroup rel.
func (m *Mesh) Client(rel string, args ...string) Result {
	m.t.Helper()
	return m.Run(m.Cgroup(rel), m.Bins.Client, args...)
}

// records reads the whole audit log.
func (m *Mesh) Records() []audit.Record {
	m.t.Helper()
	f, err := os.Open(m.AuditLog)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		m.t.Fatalf("%v", err)
	}
	defer f.Close()
	var rs []audit.Record
	torn := map[int64]string{} // offset → a line that is not a record: a write cut short
	br := bufio.NewReaderSize(f, 1<<16)
	for off := int64(0); ; {
		line, err := br.ReadBytes('\n')
		if err == io.EOF { // a last line without its newline is still being written
			break
		}
		if err != nil {
			m.t.Fatalf("read audit log: %v", err)
		}
		var r audit.Record
		if err := json.Unmarshal(line, &r); err != nil {
			torn[off] = fmt.Sprintf("%v: %.200s", err, line)
		} else {
			rs = append(rs, r)
		}
		off += int64(len(line))
	}
	// The log seals a torn write with a system record naming its offset once it can write
	// again; one torn line may still wait for its seal (the disk is still full).
	for _, r := range rs {
		if r.Torn != nil {
			delete(torn, r.Torn.Offset)
		}
	}
	if len(torn) > 1 {
		m.t.Fatalf("audit log holds %d unsealed lines that are not records: %v", len(torn), torn)
	}
	return rs
}

// waitRecord waits (bounded) for a record matching fn and returns it.
func (m *Mesh) WaitRecord(fn func(r audit.Record, index int) bool, what string) audit.Record {
	m.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for i, r := range m.Records() {
			if fn(r, i) {
				return r
			}
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("no audit record: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recordsOf returns the records of one pid.
func (m *Mesh) RecordsOf(pid int) []audit.Record {
	var out []audit.Record
	for _, r := range m.Records() {
		if int(r.PID) == pid {
			out = append(out, r)
		}
	}
	return out
}

// OtherPort returns a TCP port free on 127.0.0.1 now that is not the mesh's enforcer port: for
// a second listener of the same daemon, chosen before the daemon binds either (FreePort alone
// can hand out the same free port twice).
func (m *Mesh) OtherPort() int {
	m.t.Helper()
	for range 100 {
		if p := FreePort(m.t); p != m.Port {
			return p
		}
	}
	m.t.Fatalf("no free port other than %d", m.Port)
	return 0
}

// FreePort returns a TCP port free on 127.0.0.1 now.
func FreePort(t T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// backend is an HTTP server answering "<name> <method> <path>" on addr (ip:0 picks a port).
// Backend serves HTTP on addr (ip:0 picks a port), answering "<name> <method> <path> <body length>"; it returns the address.
func Backend(t T, addr, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("%v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s %d", name, r.Method, r.URL.Path, len(body))
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

type prefixWriter struct {
	t      T
	prefix string
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	for _, l := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		w.t.Logf("%s", w.prefix+string(l))
	}
	return len(p), nil
}

// T returns the mesh's owner.
func (m *Mesh) T() T { return m.t }
