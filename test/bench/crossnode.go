package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/meshwarden/meshwarden/test/lab"
)

// crossPolicy is both nodes' policy: the pod's agent reaches zone remote (a backend on node
// B) through node A's enforcer and the mutual-TLS tunnel, and zone direct (another address on
// node B) straight, forwarded by node A.
const crossPolicy = `security_mesh:
  global: {trust_domain: meshwarden.local}
  domains:
    - {name: remote, tier: PLAINTEXT, allowed_roles: [EXECUTOR], audit_before_forward: false, match: {destinations: [remote]}}
  zones:
    - {name: pods, cidrs: ["{{.PodIP}}/32"]}
    - {name: remote, cidrs: ["{{.BackendIP}}/32"]}
    - {name: direct, cidrs: ["{{.DirectIP}}/32"]}
    - {name: blocal, cidrs: ["{{.BLocal}}/32"]}
  agents:
    - {id: bench, role: EXECUTOR, zone: pods, cgroup: {{.Name}}/agents/bench}
  segmentation:
    - {from: pods, to: remote, ports: [8080], action: REDIRECT}
    - {from: pods, to: direct, ports: [8080], action: ALLOW}
  default_action: DENY
  nodes:
    - {name: node-a, address: "{{.AIP}}:15008", zones: [pods]}
    - {name: node-b, address: "{{.BIP}}:15008", zones: [remote, blocal]}
  tunnel: {port: 15008}
  enforcer:
    address4: {{.EnforcerIP}}
    port: {{.Port}}
    cgroup: {{.Name}}/enforcer
`

// benchCrossNode measures 1 kB requests from a pod agent on node A to a backend on node B
// through both enforcers and the tunnel vs straight to node B (same pod, an ALLOWed zone): at
// a fixed 1,000 requests/s (open loop) and closed loop; then the identity micro-benchmarks.
func benchCrossNode(r *lab.Runner, bins lab.Binaries, rounds int, seconds float64, auditDir, daemonEnv string) {
	n := lab.NewCrossNet(r)
	n.Route(r)
	mesh := func(ns, node, enforcerIP string) *lab.Mesh {
		m := lab.New(r, bins)
		for k, v := range map[string]any{"PodIP": n.PodIP, "BackendIP": n.BackendIP, "DirectIP": n.DirectIP, "BLocal": n.BLo,
			"AIP": n.AIP, "BIP": n.BIP, "EnforcerIP": enforcerIP} {
			m.Set(k, v)
		}
		m.WritePolicy(crossPolicy)
		m.Launcher = n.In(ns)
		if daemonEnv != "" {
			m.Launcher = append(m.Launcher, append([]string{"env"}, strings.Split(daemonEnv, ",")...)...)
		}
		m.RunArgs = []string{"--node", node}
		if auditDir != "" {
			dir, err := os.MkdirTemp(auditDir, "mwbench-audit-")
			if err != nil {
				r.Fatalf("%v", err)
			}
			r.Cleanup(func() { os.RemoveAll(dir) })
			m.AuditLog = dir + "/audit.jsonl"
			m.RunArgs = append(m.RunArgs, "--audit-log", m.AuditLog)
		}
		return m
	}
	a := mesh(n.A, "node-a", n.APodIP)
	a.Start()
	kid, err := os.ReadFile(a.Dir + "/ca/active")
	if err != nil {
		r.Fatalf("node A's CA: %v", err)
	}
	ca := a.Dir + "/ca/" + strings.TrimSpace(string(kid))
	b := mesh(n.B, "node-b", n.BLo)
	b.RunArgs = append(b.RunArgs, "--ca-key", ca+"/ca.key", "--ca-cert", ca+"/ca.crt")
	b.Start()
	var tunneled, direct string
	lab.Do(r, n.B, func() {
		tunneled = "http://" + lab.Backend(r, n.BackendIP+":8080", "remote") + "/bench"
		direct = "http://" + lab.Backend(r, n.DirectIP+":8080", "direct") + "/bench"
	})
	self, err := os.Executable()
	if err != nil {
		r.Fatalf("%v", err)
	}
	secs := strconv.FormatFloat(seconds, 'f', -1, 64)
	run := func(argv ...string) lab.Result {
		argv = n.In(n.Pod, argv...)
		return a.Run(a.Cgroup("agents/bench"), argv[0], argv[1:]...)
	}
	// Warm the tunnel (handshake, credential) and the direct path.
	for _, u := range []string{tunneled, direct} {
		if res := run(self, "loadgen", "0.5", "200", u, "1024"); res.Err != nil {
			r.Fatalf("warm-up %s: %v %s", u, res.Err, res.Out)
		}
	}

	fmt.Printf("cross-node, 1 kB POST, open loop at 1000 req/s, %s s x %d interleaved rounds, median\n", secs, rounds)
	keys := []string{"p50_us", "p90_us", "p99_us", "rps"}
	var d, x [4][]float64
	for range rounds {
		for _, p := range []struct {
			url string
			out *[4][]float64
		}{{direct, &d}, {tunneled, &x}} {
			res := run(self, "loadgen", secs, "1000", p.url, "1024")
			if f := field(r, res, "failed"); f != 0 {
				r.Fatalf("%s: %v failed requests: %s", p.url, f, res.Out)
			}
			for i, k := range keys {
				p.out[i] = append(p.out[i], field(r, res, k))
			}
		}
	}
	fmt.Printf("  direct        p50 %6.0f us  p90 %6.0f us  p99 %6.0f us  %6.0f req/s\n", median(d[0]), median(d[1]), median(d[2]), median(d[3]))
	fmt.Printf("  two enforcers p50 %6.0f us  p90 %6.0f us  p99 %6.0f us  %6.0f req/s\n", median(x[0]), median(x[1]), median(x[2]), median(x[3]))
	fmt.Printf("  added         p50 +%5.0f us  p90 +%5.0f us  p99 +%5.0f us  (ratio p50 %.2f, p99 %.2f)\n",
		median(x[0])-median(d[0]), median(x[1])-median(d[1]), median(x[2])-median(d[2]), median(x[0])/median(d[0]), median(x[2])/median(d[2]))

	for _, conc := range []string{"1", "16"} {
		fmt.Printf("cross-node, 1 kB POST, closed loop, %s connection(s), %s s x %d rounds, median\n", conc, secs, rounds)
		closedLoop(r, rounds, "two enforcers", direct, tunneled, func(url string) lab.Result {
			return run(bins.Client, "http-bench", secs, conc, url, "1024")
		})
	}

	fmt.Println("identity (go test -bench, in-process, per operation)")
	cmd := exec.Command("go", "test", "-run", "^$", "-benchtime", "1s", "-benchmem",
		"-bench", "^(BenchmarkIssue|BenchmarkPresent|BenchmarkVerifyPresentation|BenchmarkPresentAndVerify|BenchmarkMutualTLS13Handshake)$",
		"./userspace/identity/credential", "./userspace/identity/node")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.Fatalf("identity benchmarks: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 4 && strings.HasPrefix(f[0], "Benchmark") {
			fmt.Printf("  %-40s %10s ns/op  %s\n", f[0], f[2], strings.Join(f[4:], " "))
		}
	}
}

// loadgen is the bench's own agent, re-executed inside the pod: `loadgen S RATE URL BYTES`
// starts RATE POSTs per second on a fixed schedule (open loop: a slow answer does not delay
// the next request, which takes another keep-alive connection) for S seconds and prints
// latency percentiles, each request timed from its start, as fortio does.
func loadgen(args []string) int {
	if len(args) != 4 {
		fmt.Println("error: usage: loadgen SECONDS RATE URL BYTES")
		return 1
	}
	secs, _ := strconv.ParseFloat(args[0], 64)
	rate, _ := strconv.Atoi(args[1])
	size, _ := strconv.Atoi(args[3])
	body := bytes.Repeat([]byte("x"), size)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	var mu sync.Mutex
	var lat []time.Duration
	failed := 0
	var firstErr error
	do := func(start time.Time) {
		resp, err := c.Post(args[2], "application/octet-stream", bytes.NewReader(body))
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != 200 {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		d := time.Since(start)
		mu.Lock()
		if err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
		} else {
			lat = append(lat, d)
		}
		mu.Unlock()
	}
	dur := time.Duration(secs * float64(time.Second))
	begin := time.Now()
	var wg sync.WaitGroup
	for i := 0; ; i++ {
		next := begin.Add(time.Duration(i) * time.Second / time.Duration(max(rate, 1)))
		if next.Sub(begin) >= dur {
			break
		}
		time.Sleep(time.Until(next))
		wg.Add(1)
		go func() { defer wg.Done(); do(time.Now()) }()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	if len(lat) == 0 {
		fmt.Printf("error: no request succeeded: %v\n", firstErr)
		return 1
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
	fmt.Printf("rps=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f failed=%d", float64(len(lat))/elapsed.Seconds(), pct(0.5), pct(0.9), pct(0.99), failed)
	if firstErr != nil {
		fmt.Printf(" first_error=%q", firstErr.Error())
	}
	fmt.Println()
	return 0
}
