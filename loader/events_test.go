package loader

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/loader/cgroup"
	"github.com/meshwarden/meshwarden/policy"
)

// runIn runs python3 code in cgroup cg and returns its pid and combined output.
func runIn(t *testing.T, cg, code string, args ...string) (int, string, error) {
	t.Helper()
	fd, err := cgroup.Open(cg)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	cmd := exec.Command("python3", append([]string{"-c", code}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(fd.Fd())}
	out, err := cmd.CombinedOutput()
	pid := 0
	if cmd.Process != nil {
		pid = cmd.Process.Pid
	}
	return pid, strings.TrimSpace(string(out)), err
}

// loadWithVerdict loads the datapath with the agent cgroup in zone 1 and 127.0.0.0/8 in zone 2,
// (1, 2) → v.
func loadWithVerdict(t *testing.T, tb *testbed, v policy.Verdict) *Datapath {
	t.Helper()
	dp, err := Load(tb.opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dp.Close() })
	agentID, err := CgroupID(tb.agent)
	if err != nil {
		t.Fatal(err)
	}
	tables := policy.Tables{
		Prefixes: []policy.ZonePrefix{{Prefix: netip.MustParsePrefix("127.0.0.0/8"), Zone: 2}},
		Rules:    []policy.ZoneRule{{SrcZone: 1, DstZone: 2, Verdict: v}},
		Default:  policy.VerdictDeny,
	}
	cfg := Config{Enforcer4: netip.MustParseAddr("127.0.0.1"), Enforcer6: netip.MustParseAddr("::1"), Port: 1}
	if _, err := dp.Apply(tables, []Endpoint{{CgroupID: agentID, Agent: 7, Zone: 1}}, cfg); err != nil {
		t.Fatal(err)
	}
	return dp
}

// closeOrders are the ways a connection ends; the kernel's byte counters include the SYN and
// whichever FINs went by, which the datapath must take off in each of them.
var closeOrders = []struct {
	name string
	// peerWait is how long the server waits after answering before it closes.
	peerWait time.Duration
	// agent: "wait" waits for the server's close, "close" closes at once, "half" shuts down
	// its sending side and reads until the server closes, "reset" aborts (SO_LINGER 0: RST).
	agent string
}{
	{"peer closes first", 0, "wait"},
	{"agent closes first", 100 * time.Millisecond, "close"},
	{"agent half-closes then reads to the end", 100 * time.Millisecond, "half"},
	{"agent resets", 100 * time.Millisecond, "reset"},
}

func TestAllowedAgentConnectionCloseReportsExactDataBytesEachWayAndItsConnectCookie(t *testing.T) {
	for _, order := range closeOrders {
		t.Run(order.name, func(t *testing.T) {
			tb := newTestbed(t)
			dp := loadWithVerdict(t, tb, policy.VerdictAllow)
			checkCloseEvent(t, tb, dp, order.peerWait, order.agent)
		})
	}
}

func checkCloseEvent(t *testing.T, tb *testbed, dp *Datapath, peerWait time.Duration, mode string) {
	const sent, answered = 12345, 6789
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := io.CopyN(io.Discard, c, sent); err != nil {
			return
		}
		c.Write(make([]byte, answered))
		time.Sleep(peerWait)
	}()

	var (
		mu       sync.Mutex
		connects []FlowEvent
		closes   []CloseEvent
	)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- dp.ReadEvents(ctx, EventHandlers{
			Connect: func(e FlowEvent) { mu.Lock(); connects = append(connects, e); mu.Unlock() },
			Close:   func(e CloseEvent) { mu.Lock(); closes = append(closes, e); mu.Unlock() },
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	const py = `import socket,struct,sys,time
s=socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"x"*int(sys.argv[2]))
n=0
while n < int(sys.argv[3]):
    b=s.recv(65536)
    if not b: break
    n+=len(b)
time.sleep(0.05)
if sys.argv[4] == "wait":
    s.recv(1)
elif sys.argv[4] == "half":
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
elif sys.argv[4] == "reset":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
print(n)`
	port := ln.Addr().(*net.TCPAddr).Port
	pid, out, err := runIn(t, tb.agent, py, strconv.Itoa(port), strconv.Itoa(sent), strconv.Itoa(answered), mode)
	if err != nil || out != strconv.Itoa(answered) {
		t.Fatalf("agent: %v %q", err, out)
	}

	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		nc, nx := len(connects), len(closes)
		mu.Unlock()
		if nc >= 1 && nx >= 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(connects) != 1 || len(closes) != 1 {
		t.Fatalf("got %d connect and %d close events, want 1 each: %+v %+v", len(connects), len(closes), connects, closes)
	}
	conn, cl := connects[0], closes[0]
	want := netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", port))
	if cl.Cookie == 0 || cl.Cookie != conn.Cookie || cl.PID != uint32(pid) || cl.Comm != "python3" ||
		cl.Verdict != policy.VerdictAllow || cl.Dst != want || cl.Agent != 7 || cl.SrcZone != 1 || cl.DstZone != 2 ||
		cl.CgroupID != conn.CgroupID {
		t.Errorf("close event %+v does not match its connect %+v (pid %d)", cl, conn, pid)
	}
	if cl.BytesSent != sent || cl.BytesReceived != answered {
		t.Errorf("close bytes: sent %d received %d, want %d and %d", cl.BytesSent, cl.BytesReceived, sent, answered)
	}
	if cl.Duration < 50*time.Millisecond || cl.BootNS <= conn.BootNS {
		t.Errorf("close duration %v (want ≥ 50ms, the agent's sleep), close at %d, connect at %d", cl.Duration, cl.BootNS, conn.BootNS)
	}
}

// With nobody reading, the ring buffer fills up: the next events are counted as drops, and
// every DENY is enforced all the same.
func TestFullRingBufferCountsDropsPerCPUAndStillEnforcesDeny(t *testing.T) {
	tb := newTestbed(t)
	dp := loadWithVerdict(t, tb, policy.VerdictDeny)
	// 4 MiB hold about 47,000 connect events (80 bytes and an 8-byte header each).
	const attempts = 60000
	const py = `import socket,sys
denied=0
for i in range(int(sys.argv[1])):
    s=socket.socket()
    try:
        s.connect(("127.0.0.1", 9))
    except PermissionError:
        denied+=1
    except OSError:
        pass
    s.close()
print(denied)`
	_, out, err := runIn(t, tb.agent, py, strconv.Itoa(attempts))
	if err != nil || out != strconv.Itoa(attempts) {
		t.Fatalf("every connect should get EPERM: %v, denied %q of %d", err, out, attempts)
	}
	c, err := dp.Counters()
	if err != nil {
		t.Fatal(err)
	}
	perCPU, err := dp.RingbufDropsPerCPU()
	if err != nil {
		t.Fatal(err)
	}
	var sum uint64
	for _, v := range perCPU {
		sum += v
	}
	if c.Deny != attempts || c.RingbufDrops == 0 || sum != c.RingbufDrops {
		t.Errorf("deny %d (want %d), drops %d, per CPU %v", c.Deny, attempts, c.RingbufDrops, perCPU)
	}
	if kept := attempts - c.RingbufDrops; kept < 40000 || kept > 50000 {
		t.Errorf("%d events kept in a 4 MiB ring buffer, want about 47,000", kept)
	}
}

func TestRingBufferSamplesAreToldApartBySizeAndAnUnknownSizeIsAnError(t *testing.T) {
	encode := func(v any) []byte {
		var b bytes.Buffer
		if err := binary.Write(&b, binary.LittleEndian, v); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	var got []any
	h := EventHandlers{Connect: func(e FlowEvent) { got = append(got, e) }, Close: func(e CloseEvent) { got = append(got, e) }}
	conn := mwMwFlowEvent{Cookie: 9, Verdict: uint8(policy.VerdictDeny), Family: 4, Daddr: [16]uint8{127, 0, 0, 4}, Dport: 80, Reason: ReasonDefault}
	cl := mwMwCloseEvent{Cookie: 9, Verdict: uint8(policy.VerdictRedirect), Family: 4, Daddr: [16]uint8{127, 0, 0, 3}, Dport: 443,
		DurationNs: 5e6, BytesSent: 11, BytesReceived: 22}
	for _, raw := range []any{conn, cl} {
		if err := dispatchEvent(encode(raw), h); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 {
		t.Fatalf("delivered %d events, want 2", len(got))
	}
	if c, ok := got[0].(FlowEvent); !ok || c.Cookie != 9 || c.Verdict != policy.VerdictDeny || c.Dst.String() != "127.0.0.4:80" || c.Reason != ReasonDefault {
		t.Errorf("connect event %+v", got[0])
	}
	if c, ok := got[1].(CloseEvent); !ok || c.Cookie != 9 || c.Verdict != policy.VerdictRedirect || c.Dst.String() != "127.0.0.3:443" ||
		c.Duration != 5*time.Millisecond || c.BytesSent != 11 || c.BytesReceived != 22 {
		t.Errorf("close event %+v", got[1])
	}
	if err := dispatchEvent(make([]byte, 7), h); err == nil {
		t.Error("a 7-byte sample was accepted")
	}
	if err := dispatchEvent(encode(conn), EventHandlers{}); err != nil {
		t.Errorf("no handler: %v", err)
	}
}
