package test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

// lineServer listens on addr (ip:0) and, for each connection, reads one line and answers
// with out bytes (a line too). It returns the address it listens on.
func lineServer(t *testing.T, addr string, out int) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	answer := strings.Repeat("y", out-1) + "\n"
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := bufio.NewReader(c).ReadString('\n'); err == nil {
					io.WriteString(c, answer)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// exchange makes the orchestrator send a line of in bytes (its "\r\n" included) to addr, read
// the answer and close; it returns the agent's pid.
func (w *world) exchange(t *testing.T, addr string, in, out int) int {
	t.Helper()
	r := w.orchestrator("tcp", addr, strings.Repeat("x", in-2))
	if r.Err != nil || len(r.Out) != out-1 {
		t.Fatalf("agent exchange with %s: %v, %d bytes read, want %d", addr, r.Err, len(r.Out), out-1)
	}
	return r.PID
}

// closeOf waits for the close record of pid's connection.
func (w *world) closeOf(pid int) audit.Record {
	w.T().Helper()
	return w.WaitRecord(func(r audit.Record, _ int) bool {
		return r.Kind == audit.KindFlow && int(r.PID) == pid && r.Reason == "closed"
	}, fmt.Sprintf("flow close of pid %d", pid))
}

func TestFlowCloseRecordsJoinTheirConnectByCookieWithBytesEachWayAndDuration(t *testing.T) {
	w := newWorld(t)
	const in, out = 20000, 7777 // agent → destination, destination → agent
	tools := lineServer(t, "127.0.0.2:0", out)
	data := lineServer(t, "127.0.0.3:0", out)

	t.Run("ALLOW: the direct connection's exact data bytes", func(t *testing.T) {
		pid := w.exchange(t, tools, in, out)
		conn, cl := w.flowOf(pid), w.closeOf(pid)
		if conn.Reason == "closed" || conn.Verdict != "ALLOW" {
			t.Fatalf("first flow record of pid %d is not its connect: %+v", pid, conn)
		}
		if cl.Cookie == 0 || cl.Cookie != conn.Cookie || cl.Verdict != "ALLOW" || cl.Destination != tools ||
			cl.AgentID != "orchestrator" || cl.Role != "ORCHESTRATOR" || cl.Zone != "control" || cl.DstZone != "tools" ||
			cl.Transport != "tcp" || cl.Comm != "mwclient" || cl.CgroupID != conn.CgroupID {
			t.Errorf("close record %+v does not join its connect record %+v", cl, conn)
		}
		if cl.BytesIn != in || cl.BytesOut != out {
			t.Errorf("close bytes in %d out %d, want %d and %d", cl.BytesIn, cl.BytesOut, in, out)
		}
		if cl.DurationNS <= 0 || cl.DurationNS > int64(10*time.Second) {
			t.Errorf("close duration %v", time.Duration(cl.DurationNS))
		}
	})

	t.Run("REDIRECT: the agent's connection to the enforcer, under the original destination", func(t *testing.T) {
		pid := w.exchange(t, data, in, out)
		conn, cl, req := w.flowOf(pid), w.closeOf(pid), w.requestOf(pid)
		if conn.Verdict != "REDIRECT" || cl.Verdict != "REDIRECT" || cl.Cookie == 0 || cl.Cookie != conn.Cookie ||
			cl.Cookie != req.Cookie || cl.Destination != data || cl.DstZone != "data" || cl.AgentID != "orchestrator" {
			t.Errorf("close record %+v does not join connect %+v and enforcer request %+v", cl, conn, req)
		}
		// The enforcer relays the opaque stream byte for byte: the agent's socket saw as much.
		if cl.BytesIn != in || cl.BytesOut != out || req.BytesIn != in || req.BytesOut != out {
			t.Errorf("close bytes in %d out %d, enforcer in %d out %d, want %d and %d", cl.BytesIn, cl.BytesOut,
				req.BytesIn, req.BytesOut, in, out)
		}
		if cl.DurationNS <= 0 || cl.DurationNS > int64(10*time.Second) {
			t.Errorf("close duration %v", time.Duration(cl.DurationNS))
		}
	})

	t.Run("metrics count closes by verdict and bytes by direction", func(t *testing.T) {
		text := scrape(t, statusJSON(t, w).MetricsAddr)
		for series, want := range map[string]float64{
			`meshwarden_datapath_flow_closes_total{verdict="ALLOW"}`:                      1,
			`meshwarden_datapath_flow_closes_total{verdict="REDIRECT"}`:                   1,
			`meshwarden_datapath_flow_bytes_total{direction="to_destination"}`:            2 * in,
			`meshwarden_datapath_flow_bytes_total{direction="to_agent"}`:                  2 * out,
			`meshwarden_datapath_flow_duration_seconds_count{verdict="ALLOW"}`:            1,
			`meshwarden_datapath_flow_duration_seconds_bucket{verdict="ALLOW",le="+Inf"}`: 1,
		} {
			if got := sampleValue(text, series+" "); got != want {
				t.Errorf("%s = %v, want %v", series, got, want)
			}
		}
	})
}

func TestRingBufferDropsBecomeASystemRecordAndAMetricWhileDenyIsStillEnforced(t *testing.T) {
	w := newWorld(t)
	// A stopped daemon reads no events: the 4 MiB ring buffer (about 47,000 connect events)
	// fills, and the kernel counts what does not fit.
	pid := w.DaemonPID()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	resume := func() {
		if stopped {
			syscall.Kill(pid, syscall.SIGCONT)
			stopped = false
		}
	}
	t.Cleanup(resume)

	const attempts = 60000
	r := w.orchestrator("connect-rate", strconv.Itoa(attempts), w.blocked)
	resume()
	if want := fmt.Sprintf("ok=0 refused=%d", attempts); r.Err != nil || !strings.HasSuffix(r.Out, want) {
		t.Fatalf("every DENY must be enforced, dropped event or not: %v %q, want %q", r.Err, r.Out, want)
	}

	rec := w.WaitRecord(func(r audit.Record, _ int) bool {
		return r.Kind == audit.KindSystem && strings.HasPrefix(r.Message, "kernel ring buffer full: ")
	}, "ring-buffer loss record")
	var lost int
	if _, err := fmt.Sscanf(strings.TrimPrefix(rec.Message, "kernel ring buffer full: "), "%d events", &lost); err != nil {
		t.Fatalf("loss record %q: %v", rec.Message, err)
	}
	if !strings.Contains(rec.Message, "cpu") || !strings.Contains(rec.Message, "verdicts were enforced") {
		t.Errorf("loss record gives no per-CPU detail or does not say the verdicts held: %q", rec.Message)
	}

	text := scrape(t, statusJSON(t, w).MetricsAddr)
	drops := sampleValue(text, "meshwarden_datapath_ringbuf_drops_total ")
	if lost <= 0 || float64(lost) != drops {
		t.Errorf("loss record says %d events lost, the metric %v", lost, drops)
	}
	if kept := attempts - lost; kept < 40000 || kept > 50000 {
		t.Errorf("%d events kept in the 4 MiB ring buffer, want about 47,000", kept)
	}
	if deny := sampleValue(text, `meshwarden_datapath_verdicts_total{verdict="DENY"} `); deny < attempts {
		t.Errorf("kernel DENY counter %v, want at least %d", deny, attempts)
	}
}
