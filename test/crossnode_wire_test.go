package test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/meshwarden/meshwarden/test/lab"
)

// crossPair starts node A (agent good, attested by the test agent's binary) and node B
// (sharing node A's CA) and a backend on node B serving dir; policy edits node A's and node
// B's policy text before they start. It returns the backend's base URL.
func crossPair(t *testing.T, n *lab.CrossNet, dir string, policy func(string) string) (a, b *lab.Mesh, url string) {
	t.Helper()
	good := fileMeasurement(t, bins.Client)
	a = crossMesh(t, n, n.A, "node-a", n.APodIP, 15008,
		fmt.Sprintf("    - {id: good, role: EXECUTOR, zone: pods, cgroup: {{.Name}}/agents/good, attestation: [%q]}", good))
	b = crossMesh(t, n, n.B, "node-b", n.BLo, 15008,
		"    - {id: local-b, role: EXECUTOR, zone: blocal, cgroup: {{.Name}}/agents/local-b}")
	for _, m := range []*lab.Mesh{a, b} {
		text, err := os.ReadFile(m.Config)
		if err != nil {
			t.Fatal(err)
		}
		m.WritePolicy(policy(string(text)))
	}
	a.RunArgs = append(a.RunArgs, "--metrics-addr", "127.0.0.1:19464") // node A's own namespace
	a.Start()
	key, cert := activeCA(t, a.Dir)
	b.RunArgs = append(b.RunArgs, "--ca-key", key, "--ca-cert", cert)
	b.Start()
	srv := exec.Command("nsenter", "--net=/run/netns/"+n.B, "--", "python3", "-m", "http.server", "--bind", n.BackendIP, "8080")
	srv.Dir = dir
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	waitInNetns(t, &netPair{node: n.B}, n.BackendIP+":8080")
	return a, b, "http://" + n.BackendIP + ":8080/"
}

// capture reads every frame on link in namespace ns with an AF_PACKET raw socket until stop
// is closed; it returns what it read, concatenated.
func capture(t *testing.T, ns, link string, stop <-chan struct{}) func() []byte {
	t.Helper()
	var fd int
	lab.Do(t, ns, func() {
		ifi, err := net.InterfaceByName(link)
		if err != nil {
			t.Fatalf("%s in %s: %v", link, ns, err)
		}
		proto := int(uint16(unix.ETH_P_ALL)<<8 | uint16(unix.ETH_P_ALL)>>8)
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, proto)
		if err != nil {
			t.Fatalf("AF_PACKET socket: %v", err)
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: uint16(proto), Ifindex: ifi.Index}); err != nil {
			t.Fatalf("bind AF_PACKET to %s: %v", link, err)
		}
	})
	tv := unix.NsecToTimeval((100 * time.Millisecond).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var all []byte
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer unix.Close(fd)
		buf := make([]byte, 65536)
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-stop:
				return
			default:
			}
			k, _, err := unix.Recvfrom(fd, buf, 0)
			if k > 0 && err == nil {
				mu.Lock()
				all = append(all, buf[:k]...)
				mu.Unlock()
			}
		}
	}()
	return func() []byte {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return all
	}
}

// The bytes between node A and node B are TLS only: a request and an answer both carrying a
// marker cross the veth while a raw socket on node A's end of it records every frame; the
// marker never appears there, TLS application-data records do.
func TestCrossNodeVethCarriesOnlyTLS(t *testing.T) {
	n := lab.NewCrossNet(t)
	dir := t.TempDir()
	marker := "MWPLAINTEXTMARKER" + fmt.Sprint(time.Now().UnixNano())
	if err := os.WriteFile(filepath.Join(dir, marker), []byte("secret "+marker+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, _, url := crossPair(t, n, dir, func(s string) string { return s })

	stop := make(chan struct{})
	frames := capture(t, n.A, "mwx-ab", stop)
	argv := n.In(n.Pod, bins.Client, "http", url+marker)
	r := a.Run(a.Cgroup("agents/good"), argv[0], argv[1:]...)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wire := frames()
	if r.Err != nil || !strings.HasPrefix(r.Out, "200 ") || !strings.Contains(r.Out, marker) {
		t.Fatalf("request through the tunnel: %v %q", r.Err, r.Out)
	}
	if len(wire) < 1024 {
		t.Fatalf("captured only %d bytes on mwx-ab", len(wire))
	}
	if bytes.Contains(wire, []byte(marker)) || bytes.Contains(wire, []byte("MWPLAINTEXTMARKER")) {
		t.Fatalf("the marker crossed the veth in the clear (%d bytes captured)", len(wire))
	}
	if !bytes.Contains(wire, []byte{0x17, 0x03, 0x03}) {
		t.Errorf("no TLS application-data record in %d captured bytes", len(wire))
	}
}

// Node B's tunnel port refuses a client that offers TLS 1.2 at most (the minimum is 1.3).
func TestCrossNodeTunnelRefusesTLS12(t *testing.T) {
	n := lab.NewCrossNet(t)
	crossPair(t, n, t.TempDir(), func(s string) string { return s })
	var conn net.Conn
	lab.Do(t, n.A, func() {
		var err error
		conn, err = net.DialTimeout("tcp", n.BIP+":15008", 3*time.Second)
		if err != nil {
			t.Fatalf("dial node B's tunnel port: %v", err)
		}
	})
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	c := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12})
	err := c.Handshake()
	if err == nil {
		t.Fatalf("node B completed a TLS %x handshake with a TLS 1.2-only client", c.ConnectionState().Version)
	}
	if !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("TLS 1.2 handshake refused with %v, want a protocol version alert", err)
	}
}

// With a 3 s credential lifetime (rotation every 2 s), requests sent back to back for
// 10 s, across several rotations, all succeed.
func TestCrossNodeCredentialRotationUnderLoadLosesNoRequest(t *testing.T) {
	n := lab.NewCrossNet(t)
	a, _, url := crossPair(t, n, t.TempDir(), func(s string) string {
		return strings.Replace(s, "global: {trust_domain: meshwarden.local}",
			"global: {trust_domain: meshwarden.local, credential_rotation_interval_ms: 3000}", 1)
	})
	argv := n.In(n.Pod, bins.Client, "http", url)
	end := time.Now().Add(10 * time.Second)
	ok, failed := 0, 0
	var first string
	for time.Now().Before(end) {
		r := a.Run(a.Cgroup("agents/good"), argv[0], argv[1:]...)
		if r.Err != nil || !strings.HasPrefix(r.Out, "200 ") {
			failed++
			if first == "" {
				first = fmt.Sprintf("%v %q", r.Err, r.Out)
			}
			continue
		}
		ok++
	}
	if failed != 0 || ok < 20 {
		t.Fatalf("%d requests succeeded, %d failed across rotations; first failure: %s", ok, failed, first)
	}
	rotated := scrapeA(t, n, "meshwarden_identity_credentials_rotated_total")
	if rotated < 3 {
		t.Fatalf("%d requests succeeded but node A rotated credentials only %v times in 10 s of 3 s credentials", ok, rotated)
	}
	t.Logf("%d requests across %v rotations", ok, rotated)
}

// scrapeA reads one unlabelled metric from node A's metrics endpoint (in node A's namespace).
func scrapeA(t *testing.T, n *lab.CrossNet, name string) float64 {
	t.Helper()
	var body []byte
	lab.Do(t, n.A, func() {
		c, err := net.DialTimeout("tcp", "127.0.0.1:19464", 3*time.Second)
		if err != nil {
			t.Fatalf("node A's metrics: %v", err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "GET /metrics HTTP/1.0\r\nHost: node-a\r\n\r\n")
		body, err = io.ReadAll(c)
		if err != nil {
			t.Fatalf("node A's metrics: %v", err)
		}
	})
	for _, l := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			return x
		}
	}
	t.Fatalf("no %s in node A's metrics (%d bytes)", name, len(body))
	return 0
}
