// Command bench measures the datapath and the enforcer against baselines taken in the same run
// and prints ratios: connect() rate with and without the programs; 1 kB HTTP requests over
// keep-alive, redirected through the enforcer vs direct; and 1 kB JSON-RPC tools/call requests
// over keep-alive, direct vs through the enforcer (deciding only, and deciding, classifying and
// scrubbing) vs through an nginx reverse proxy; and 1 kB requests from a pod on node A to a
// backend on node B through both enforcers and the mutual-TLS tunnel vs straight (network
// namespaces), with the identity costs. `make bench` runs it (root).
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/meshwarden/meshwarden/test/lab"
)

// policy: zone inspected is redirected into domain bench, which only decides (role, tier);
// zone tools into domain tools, which also classifies (SSN, cards, canaries, password and
// api_key fields) and scrubs (headers, metadata keys, pseudonyms for JSON-RPC ids).
const policy = `security_mesh:
  domains:
    - {name: bench, tier: PLAINTEXT, allowed_roles: [EXECUTOR], audit_level: FULL_MESH, audit_before_forward: false, match: {destinations: [inspected]}}
    - name: tools
      tier: PLAINTEXT
      allowed_roles: [EXECUTOR]
      metadata_masking: true
      audit_level: FULL_MESH
      audit_before_forward: false # the PEP's own cost; a durable record first adds the group commit's fsync
      match: {destinations: [tools]}
      sensitive_fields: [{key: password, action: block}, {key: api_key, action: redact}]
      detectors:
        - {type: ssn, action: redact}
        - {type: payment_card, action: block}
        - {type: canary, action: block, prefixes: [CANARY_]}
      masked_keys: [tenant_id]
  zones:
    - {name: direct, cidrs: ["127.0.0.2/32"]}
    - {name: inspected, cidrs: ["127.0.0.3/32"]}
    - {name: blocked, cidrs: ["127.0.0.4/32"]}
    - {name: agents, cidrs: ["127.0.0.5/32"]}
    - {name: tools, cidrs: ["127.0.0.6/32"]}
  agents:
    - {id: bench, role: EXECUTOR, zone: agents, cgroup: {{.Name}}/agents/bench}
  segmentation:
    - {from: agents, to: direct, action: ALLOW}
    - {from: agents, to: inspected, action: REDIRECT}
    - {from: agents, to: tools, action: REDIRECT}
    - {from: agents, to: blocked, action: DENY}
  default_action: DENY
  enforcer:
    port: {{.Port}}
    cgroup: {{.Name}}/enforcer
`

func main() {
	if len(os.Args) > 1 && os.Args[1] == "loadgen" {
		os.Exit(loadgen(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "relay" {
		os.Exit(minimalRelay(os.Args[2:]))
	}
	rounds := flag.Int("rounds", 5, "interleaved rounds per measurement (the median is reported)")
	connects := flag.Int("connects", 5000, "connect() calls per round")
	seconds := flag.Float64("seconds", 3, "seconds per HTTP round")
	parts := flag.String("parts", "connect,http,rpc,crossnode", "what to measure: connect, http (issue 2), rpc (issue 3), crossnode (issue 4)")
	auditDir := flag.String("audit-dir", "", "directory of the daemon's audit log (default: its state directory); e.g. /dev/shm to take fsync cost out")
	daemonEnv := flag.String("daemon-env", "", "environment for the daemon only, e.g. GOMAXPROCS=1,GOGC=200")
	conns := flag.String("conns", "1,16", "connection counts of part rpc")
	profileDir := flag.String("profile", "", "directory for CPU profiles of the daemon, taken through its operator socket during the first round of each enforcer variant of part rpc (go tool pprof FILE)")
	flag.Parse()
	r := &lab.Runner{Name: "bench"}
	os.Exit(r.Run(func() {
		run(r, *rounds, *connects, *seconds, strings.Split(*parts, ","), *auditDir, *daemonEnv, *profileDir, strings.Split(*conns, ","))
	}))
}

func run(r *lab.Runner, rounds, connects int, seconds float64, parts []string, auditDir, daemonEnv, profileDir string, conns []string) {
	dir, err := os.MkdirTemp("", "mwbench-bin-")
	if err != nil {
		r.Fatalf("%v", err)
	}
	r.Cleanup(func() { os.RemoveAll(dir) })
	if profileDir != "" {
		if err := os.MkdirAll(profileDir, 0o755); err != nil {
			r.Fatalf("profile directory: %v", err)
		}
	}
	bins, err := lab.Build(".", dir)
	if err != nil {
		r.Fatalf("%v", err)
	}
	if slices.ContainsFunc(parts, func(p string) bool { return p == "connect" || p == "http" || p == "rpc" }) {
		runLocal(r, bins, rounds, connects, seconds, parts, auditDir, daemonEnv, profileDir, conns)
	}
	if slices.Contains(parts, "crossnode") {
		benchCrossNode(r, bins, rounds, seconds, auditDir, daemonEnv)
	}
}

// runLocal measures the single-node parts on one daemon in the host's namespace.
func runLocal(r *lab.Runner, bins lab.Binaries, rounds, connects int, seconds float64, parts []string, auditDir, daemonEnv, profileDir string, conns []string) {
	m := lab.New(r, bins)
	if auditDir != "" {
		dir, err := os.MkdirTemp(auditDir, "mwbench-audit-")
		if err != nil {
			r.Fatalf("%v", err)
		}
		r.Cleanup(func() { os.RemoveAll(dir) })
		m.AuditLog = dir + "/audit.jsonl"
		m.RunArgs = []string{"--audit-log", m.AuditLog}
		fmt.Printf("audit log in %s\n", dir)
	}
	if daemonEnv != "" {
		m.Launcher = append([]string{"env"}, strings.Split(daemonEnv, ",")...)
		fmt.Printf("daemon environment %s\n", daemonEnv)
	}
	m.WritePolicy(policy)
	m.Start()
	for _, cg := range []string{"agents/plain", "bare"} {
		if err := os.MkdirAll(m.Cgroup(cg), 0o755); err != nil {
			r.Fatalf("%v", err)
		}
	}
	secs := strconv.FormatFloat(seconds, 'f', -1, 64)
	if slices.Contains(parts, "connect") {
		benchConnect(r, m, bins, rounds, connects)
	}
	if slices.Contains(parts, "http") {
		benchHTTP(r, m, bins, rounds, secs)
	}
	if slices.Contains(parts, "rpc") {
		benchRPC(r, m, bins, rounds, secs, profileDir, conns)
	}
}

func benchConnect(r *lab.Runner, m *lab.Mesh, bins lab.Binaries, rounds, connects int) {
	sink := acceptSink(r, "127.0.0.2:0")
	deny := "127.0.0.4:" + strings.Split(sink, ":")[1]

	fmt.Printf("connect(): %d calls x %d interleaved rounds, median\n", connects, rounds)
	variants := []struct{ name, cgroup, addr string }{
		{"no programs (cgroup outside the agents' tree)", "bare", sink},
		{"non-agent cgroup, programs attached", "agents/plain", sink},
		{"agent cgroup, ALLOW", "agents/bench", sink},
		{"agent cgroup, DENY", "agents/bench", deny},
	}
	rates := make([][]float64, len(variants))
	for range rounds {
		for i, v := range variants {
			res := m.Run(m.Cgroup(v.cgroup), bins.Client, "connect-rate", strconv.Itoa(connects), v.addr)
			rates[i] = append(rates[i], field(r, res, "rate"))
		}
	}
	base := median(rates[0])
	for i, v := range variants {
		fmt.Printf("  %-46s %8.0f /s  ratio %.3f\n", v.name, median(rates[i]), median(rates[i])/base)
	}
}

func benchHTTP(r *lab.Runner, m *lab.Mesh, bins lab.Binaries, rounds int, secs string) {
	direct := "http://" + lab.Backend(r, "127.0.0.2:0", "direct") + "/bench"
	redirected := "http://" + lab.Backend(r, "127.0.0.3:0", "inspected") + "/bench"
	for _, conc := range []string{"1", "16"} {
		fmt.Printf("HTTP/1.1 keep-alive, 1 kB POST, %s connection(s), %s s x %d rounds, median\n", conc, secs, rounds)
		closedLoop(r, rounds, "redirected", direct, redirected, func(url string) lab.Result {
			return m.Run(m.Cgroup("agents/bench"), bins.Client, "http-bench", secs, conc, url, "1024")
		})
	}
}

// acceptSink accepts and drops connections on addr; it returns the bound address.
func acceptSink(r *lab.Runner, addr string) string {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		r.Fatalf("%v", err)
	}
	r.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// field reads key=value from a client's output.
func field(r *lab.Runner, res lab.Result, key string) float64 {
	if res.Err != nil {
		r.Fatalf("client failed: %v: %s", res.Err, res.Out)
	}
	for _, f := range strings.Fields(res.Out) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				r.Fatalf("parse %s in %q: %v", key, res.Out, err)
			}
			return x
		}
	}
	r.Fatalf("no %s in %q", key, res.Out)
	return 0
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// closedLoop runs bench (one closed-loop `http-bench` of the test agent) against direct and
// against other, interleaved for rounds, and prints the medians of each and what other adds.
func closedLoop(r *lab.Runner, rounds int, name, direct, other string, bench func(url string) lab.Result) {
	var d, x [3][]float64
	for range rounds {
		for _, p := range []struct {
			url string
			out *[3][]float64
		}{{direct, &d}, {other, &x}} {
			res := bench(p.url)
			for i, k := range []string{"rps", "p50_us", "p99_us"} {
				p.out[i] = append(p.out[i], field(r, res, k))
			}
		}
	}
	fmt.Printf("  %-13s %8.0f req/s  p50 %6.0f us  p99 %6.0f us\n", "direct", median(d[0]), median(d[1]), median(d[2]))
	fmt.Printf("  %-13s %8.0f req/s  p50 %6.0f us  p99 %6.0f us\n", name, median(x[0]), median(x[1]), median(x[2]))
	fmt.Printf("  %-13s %8.3f        p50 +%5.0f us  p99 +%5.0f us\n", "ratio",
		median(x[0])/median(d[0]), median(x[1])-median(d[1]), median(x[2])-median(d[2]))
}
