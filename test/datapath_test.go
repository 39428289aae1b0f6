package test

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/test/lab"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

// basePolicy: two agents in two zones; tools ALLOW, data REDIRECT, blocked DENY for control;
// the workers zone may not reach data at all. What is redirected to data belongs to the
// plaintext domain "datapath", which only checks roles: these tests are about the datapath.
const basePolicy = `security_mesh:
  global:
    tls_min_version: "1.3"
    credential_rotation_interval_ms: 600000
    audit_scope: "FULL_MESH"
  domains:
    - name: "datapath"
      tier: "PLAINTEXT"
      allowed_roles: ["RETRIEVER", "ORCHESTRATOR"]
      audit_level: "FULL_MESH"
      match: {destinations: [data]}
    - name: "agent_memory"
      tier: "RETRIEVAL"
      allowed_roles: ["RETRIEVER", "ORCHESTRATOR"]
      metadata_masking: true
      audit_level: "FULL_MESH"
  zones:
    - {name: tools, cidrs: ["127.0.0.2/32"]}
    - {name: data, cidrs: ["127.0.0.3/32", "::1/128"]}
    - {name: blocked, cidrs: ["127.0.0.4/32"]}
    - {name: control, cidrs: ["127.0.0.5/32"]}
    - {name: workers, cidrs: ["127.0.0.6/32"]}
  agents:
    - {id: orchestrator, role: ORCHESTRATOR, zone: control, cgroup: {{.Name}}/agents/orchestrator}
    - {id: retriever, role: RETRIEVER, zone: workers, cgroup: {{.Name}}/agents/retriever}
  segmentation:
    - {from: control, to: tools, action: ALLOW}
    - {from: control, to: data, action: REDIRECT}
    - {from: control, to: blocked, action: DENY}
    - {from: workers, to: tools, action: ALLOW}
    - {from: workers, to: data, action: {{.WorkersData}}}
  default_action: DENY
  enforcer:
    address4: 127.0.0.1
    address6: "::1"
    port: {{.Port}}
    cgroup: {{.Name}}/enforcer
`

type world struct {
	*lab.Mesh
	tools, data, blocked, data6 string // backend addresses
}

func newWorld(t *testing.T) *world {
	w := &world{Mesh: lab.New(t, bins)}
	w.tools = lab.Backend(t, "127.0.0.2:0", "tools")
	w.data = lab.Backend(t, "127.0.0.3:0", "data")
	w.blocked = lab.Backend(t, "127.0.0.4:0", "blocked")
	w.data6 = lab.Backend(t, "[::1]:0", "data6")
	w.Set("WorkersData", "DENY")
	w.WritePolicy(basePolicy)
	w.Start()
	return w
}

func (w *world) orchestrator(args ...string) lab.Result {
	return w.Client("agents/orchestrator", args...)
}

// flowOf waits for the kernel's flow record of pid.
func (w *world) flowOf(pid int) audit.Record {
	w.T().Helper()
	return w.WaitRecord(func(r audit.Record, _ int) bool { return r.Kind == audit.KindFlow && int(r.PID) == pid },
		fmt.Sprintf("flow of pid %d", pid))
}

// requestOf waits for the enforcer's request record of pid.
func (w *world) requestOf(pid int) audit.Record {
	w.T().Helper()
	return w.WaitRecord(func(r audit.Record, _ int) bool { return r.Kind == audit.KindRequest && int(r.PID) == pid },
		fmt.Sprintf("request of pid %d", pid))
}

func wantEPERM(t *testing.T, r lab.Result) {
	t.Helper()
	if r.Err == nil || !strings.Contains(r.Out, "operation not permitted") {
		t.Fatalf("want EPERM, got err=%v out=%q", r.Err, r.Out)
	}
}

func wantOK(t *testing.T, r lab.Result, body string) {
	t.Helper()
	if r.Err != nil || !strings.HasPrefix(r.Out, "200 "+body) {
		t.Fatalf("want 200 %q, got err=%v out=%q", body, r.Err, r.Out)
	}
}

func TestAgentConnectIsDeniedAllowedOrRedirectedByZonePolicyAndAudited(t *testing.T) {
	w := newWorld(t)

	deny := w.orchestrator("http", "http://"+w.blocked+"/secret")
	wantEPERM(t, deny)
	f := w.flowOf(deny.PID)
	if f.Verdict != "DENY" || f.AgentID != "orchestrator" || f.Destination != w.blocked || f.DstZone != "blocked" || f.Zone != "control" {
		t.Errorf("deny flow record: %+v", f)
	}

	allow := w.orchestrator("http", "http://"+w.tools+"/list")
	wantOK(t, allow, "tools GET /list")
	if f := w.flowOf(allow.PID); f.Verdict != "ALLOW" || f.Destination != w.tools || f.Role != "ORCHESTRATOR" {
		t.Errorf("allow flow record: %+v", f)
	}

	redir := w.orchestrator("http", "http://"+w.data+"/memory/42?q=1")
	wantOK(t, redir, "data GET /memory/42")
	if f := w.flowOf(redir.PID); f.Verdict != "REDIRECT" || f.Destination != w.data || f.Comm != "mwclient" {
		t.Errorf("redirect flow record: %+v", f)
	}
	req := w.requestOf(redir.PID)
	if req.AgentID != "orchestrator" || req.Role != "ORCHESTRATOR" || req.Zone != "control" || req.Destination != w.data ||
		req.Method != "GET" || req.Path != "/memory/42" || req.Status != 200 || req.BytesOut == 0 || req.CgroupID == 0 || req.Comm != "mwclient" {
		t.Errorf("request record: %+v", req)
	}

	// The same destination is refused to an agent of another zone.
	wantEPERM(t, w.Client("agents/retriever", "http", "http://"+w.data+"/memory/42"))
}

func TestProcessOutsideAgentCgroupsIsUntouchedAndUnaudited(t *testing.T) {
	w := newWorld(t)
	plain := w.Cgroup("agents/not-an-agent")
	if err := os.MkdirAll(plain, 0o755); err != nil {
		t.Fatal(err)
	}
	r := w.Run(plain, bins.Client, "http", "http://"+w.blocked+"/x")
	wantOK(t, r, "blocked GET /x")
	// A later agent flow proves the reader has caught up; the plain process left nothing.
	w.flowOf(w.orchestrator("http", "http://"+w.tools+"/").PID)
	if got := w.RecordsOf(r.PID); len(got) != 0 {
		t.Errorf("non-agent process left audit records: %+v", got)
	}
}

func TestAgentSeesOriginalPeerThroughGetpeername(t *testing.T) {
	w := newWorld(t)
	r := w.orchestrator("peer", w.data)
	if r.Err != nil || r.Out != w.data {
		t.Fatalf("getpeername: got %q (%v), want %s", r.Out, r.Err, w.data)
	}
}

func TestIPv6AndV4MappedDestinationsAreClassified(t *testing.T) {
	w := newWorld(t)
	// Native IPv6: ::1 is in zone data, so the flow is redirected through the enforcer's [::1] listener.
	r := w.orchestrator("http", "http://"+w.data6+"/v6")
	wantOK(t, r, "data6 GET /v6")
	if req := w.requestOf(r.PID); req.Destination != w.data6 {
		t.Errorf("v6 request record: %+v", req)
	}

	// v4-mapped through an AF_INET6 socket (as Python and Java do): classified as IPv4.
	py := `import socket,sys
s=socket.socket(socket.AF_INET6)
try:
    s.connect(("::ffff:"+sys.argv[1], int(sys.argv[2])))
except OSError as e:
    print("error:", e.strerror); sys.exit(1)
s.sendall(b"GET /mapped HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
print(s.recv(4096).decode().split("\r\n")[0], s.getpeername()[0])`
	for _, c := range []struct{ addr, want string }{{w.data, "HTTP/1.1 200 OK"}, {w.blocked, "error: Operation not permitted"}} {
		ap := netip.MustParseAddrPort(c.addr)
		res := w.Run(w.Cgroup("agents/orchestrator"), "python3", "-c", py, ap.Addr().String(), fmt.Sprint(ap.Port()))
		if !strings.HasPrefix(res.Out, c.want) {
			t.Errorf("python v4-mapped to %s: got %q, want %q", c.addr, res.Out, c.want)
		}
		if c.want == "HTTP/1.1 200 OK" && !strings.HasSuffix(res.Out, "::ffff:"+ap.Addr().String()) {
			t.Errorf("python getpeername on v4-mapped socket: %q", res.Out)
		}
		if f := w.flowOf(res.PID); f.Destination != c.addr {
			t.Errorf("v4-mapped flow destination %q, want %q", f.Destination, c.addr)
		}
	}
}

func TestCurlThroughRedirectGetsTheBackendAnswer(t *testing.T) {
	w := newWorld(t)
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is needed: make deps installs it")
	}
	r := w.Run(w.Cgroup("agents/orchestrator"), "curl", "-sS", "-d", "hello", "http://"+w.data+"/curl")
	if r.Err != nil || r.Out != "data POST /curl 5" {
		t.Fatalf("curl: %v %q", r.Err, r.Out)
	}
	if req := w.requestOf(r.PID); req.Method != "POST" || req.BytesIn != 5 || req.Comm != "curl" {
		t.Errorf("curl request record: %+v", req)
	}
}

func TestOpaqueProtocolRedisWorksThroughTheEnforcer(t *testing.T) {
	w := newWorld(t)
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is needed: make deps installs it")
	}
	port := lab.FreePort(t)
	redis := exec.Command("redis-server", "--bind", "127.0.0.3", "--port", fmt.Sprint(port), "--save", "", "--appendonly", "no")
	if err := redis.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { redis.Process.Kill(); redis.Wait() })
	addr := fmt.Sprintf("127.0.0.3:%d", port)
	waitListening(t, addr)
	r := w.orchestrator("tcp", addr, "PING")
	if r.Err != nil || r.Out != "+PONG" {
		t.Fatalf("redis PING through the enforcer: %v %q", r.Err, r.Out)
	}
	if req := w.requestOf(r.PID); req.Protocol != "tcp" || req.BytesIn == 0 || req.BytesOut == 0 {
		t.Errorf("redis request record: %+v", req)
	}
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		sleep()
	}
	t.Fatalf("%s never listened", addr)
}

// Datagrams an agent sends on an unconnected UDP socket (sendto with an address, no connect())
// meet the same zone policy: to an ALLOW zone they arrive, to a DENY zone sendto fails with
// EPERM, and to a REDIRECT zone too (a datagram cannot be handed to the enforcer), each with its
// flow record; through an AF_INET6 socket a v4-mapped address is classified as IPv4.
func TestUnconnectedUDPSendsAreClassifiedLikeConnects(t *testing.T) {
	w := newWorld(t)
	ln, err := net.ListenPacket("udp4", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	allowed := ln.LocalAddr().(*net.UDPAddr).AddrPort()
	py := `import socket,sys
fam = socket.AF_INET6 if sys.argv[1].startswith("::") else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
try:
    s.sendto(b"datagram", (sys.argv[1], int(sys.argv[2])))
except OSError as e:
    print("error:", e.strerror); sys.exit(1)
print("sent")`
	send := func(host string, port uint16) lab.Result {
		return w.Run(w.Cgroup("agents/orchestrator"), "python3", "-c", py, host, fmt.Sprint(port))
	}

	r := send("127.0.0.2", allowed.Port())
	if r.Out != "sent" {
		t.Fatalf("sendto an ALLOW zone: %v %q", r.Err, r.Out)
	}
	_ = ln.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	if n, _, err := ln.ReadFrom(buf); err != nil || string(buf[:n]) != "datagram" {
		t.Fatalf("the allowed datagram did not arrive: %q %v", buf[:n], err)
	}
	if f := w.flowOf(r.PID); f.Verdict != "ALLOW" || f.Transport != "udp" || f.Destination != allowed.String() {
		t.Errorf("flow record of the allowed datagram: %+v", f)
	}

	for _, c := range []struct {
		host, reason string
		port         uint16
	}{
		{"127.0.0.4", "zone_rule_any_port", 5353},        // DENY zone
		{"127.0.0.3", "redirect_needs_tcp", 5353},        // REDIRECT zone: refused, not redirected
		{"::ffff:127.0.0.4", "zone_rule_any_port", 5353}, // sendmsg6, v4-mapped: the IPv4 zone
	} {
		r := send(c.host, c.port)
		if r.Err == nil || !strings.Contains(r.Out, "Operation not permitted") {
			t.Errorf("sendto %s: %v %q, want EPERM", c.host, r.Err, r.Out)
			continue
		}
		if f := w.flowOf(r.PID); f.Verdict != "DENY" || f.Reason != c.reason || f.Transport != "udp" {
			t.Errorf("flow record of the datagram to %s: %+v, want DENY %s", c.host, f, c.reason)
		}
	}
}
