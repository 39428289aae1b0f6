package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/meshwarden/meshwarden/test/lab"
)

// benchRPC measures 1 kB JSON-RPC tools/call requests over keep-alive from the agent's cgroup:
// direct to the server (an ALLOW zone), through the enforcer in a domain that only decides
// (zone inspected), through the enforcer in a domain that also classifies and scrubs (zone
// tools), and through an nginx reverse proxy (in the ALLOW zone, keeping its upstream
// connections alive). Every variant talks to an identical server; the rounds interleave the
// variants and the median of each is reported, with ratios to direct measured in the same run.
//
// With profileDir set, the daemon's CPU is profiled during the first round of each enforcer
// variant (rpc-<connections>-<variant>.pprof).
func benchRPC(r *lab.Runner, m *lab.Mesh, bins lab.Binaries, rounds int, secs, profileDir string, conns []string) {
	direct := rpcBackend(r, "127.0.0.2:0")
	variants := []struct{ name, url string }{
		{"direct", "http://" + direct + "/mcp"},
		{"enforcer, decide only", "http://" + rpcBackend(r, "127.0.0.3:0") + "/mcp"},
		{"enforcer, classify+scrub", "http://" + rpcBackend(r, "127.0.0.6:0") + "/mcp"},
	}
	nginx := fmt.Sprintf("127.0.0.2:%d", lab.FreePort(r))
	if startNginx(r, nginx, direct) {
		variants = append(variants, struct{ name, url string }{"nginx reverse proxy", "http://" + nginx + "/mcp"})
	} else {
		fmt.Println("  (nginx is not installed: make deps installs nginx-light; the nginx row is left out)")
	}
	for _, conc := range conns {
		fmt.Printf("JSON-RPC tools/call, 1 kB request and answer, keep-alive, %s connection(s), %s s x %d rounds, median\n", conc, secs, rounds)
		res := make([][3][]float64, len(variants))
		cpu := make([][]float64, len(variants)) // daemon CPU microseconds per request
		for round := range rounds {
			for i, v := range variants {
				var profiled <-chan error
				if profileDir != "" && round == 0 && strings.HasPrefix(v.name, "enforcer") {
					name := strings.NewReplacer(", ", "-", " ", "-", "+", "-").Replace(v.name)
					profiled = m.Profile(filepath.Join(profileDir, "rpc-"+conc+"-"+name+".pprof"), secs)
				}
				before, _ := lab.CPUTime(m.DaemonPID())
				out := m.Run(m.Cgroup("agents/bench"), bins.Client, "rpc-bench", secs, conc, v.url, "1024")
				after, _ := lab.CPUTime(m.DaemonPID())
				if profiled != nil {
					if err := <-profiled; err != nil {
						r.Fatalf("profile the daemon: %v", err)
					}
				}
				for j, k := range []string{"rps", "p50_us", "p99_us"} {
					res[i][j] = append(res[i][j], field(r, out, k))
				}
				if n := res[i][0][len(res[i][0])-1] * mustFloat(secs); n > 0 {
					cpu[i] = append(cpu[i], float64((after-before).Microseconds())/n)
				}
			}
		}
		base := [3]float64{median(res[0][0]), median(res[0][1]), median(res[0][2])}
		fmt.Printf("  %-26s %9s %9s %9s %9s %10s %10s %12s\n", "", "req/s", "x direct", "p50 us", "p99 us", "added p50", "added p99", "daemon CPU")
		for i, v := range variants {
			rps, p50, p99 := median(res[i][0]), median(res[i][1]), median(res[i][2])
			daemon := "-"
			if strings.HasPrefix(v.name, "enforcer") && len(cpu[i]) > 0 {
				daemon = fmt.Sprintf("%.0f us/req", median(cpu[i]))
			}
			fmt.Printf("  %-26s %9.0f %9.3f %9.0f %9.0f %+10.0f %+10.0f %12s\n", v.name, rps, rps/base[0], p50, p99, p50-base[1], p99-base[2], daemon)
		}
		if len(variants) == 4 {
			fmt.Printf("  enforcer (classify+scrub) / nginx throughput: %.3f\n", median(res[2][0])/median(res[3][0]))
		}
	}
}

func mustFloat(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
