package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/meshwarden/meshwarden/test/lab"
)

const nginxVariant = "nginx reverse proxy"

// benchRPC measures 1 kB JSON-RPC tools/call requests over keep-alive from the agent's cgroup:
// direct to the server (an ALLOW zone), through the enforcer in a domain that only decides
// (zone inspected), through the enforcer in a domain that also classifies and scrubs (zone
// tools), through an nginx reverse proxy (in the ALLOW zone, keeping its upstream
// connections alive), and through the minimal Go relay (relay.go: the floor of a user-space
// hop). Every variant talks to an identical server; the rounds interleave the
// variants and the median of each is reported, with ratios to direct measured in the same run.
//
// With profileDir set, the daemon's CPU is profiled during the first round of each enforcer
// variant (rpc-<connections>-<variant>.pprof).
func benchRPC(r *lab.Runner, m *lab.Mesh, bins lab.Binaries, rounds int, secs, profileDir string, conns []string) {
	direct := rpcBackend(r, "127.0.0.2:0")
	// pid is the process whose CPU per request the table shows (0: none).
	type variant struct {
		name, url string
		pid       int
	}
	variants := []variant{
		{"direct", "http://" + direct + "/mcp", 0},
		{"enforcer, decide only", "http://" + rpcBackend(r, "127.0.0.3:0") + "/mcp", m.DaemonPID()},
		{"enforcer, classify+scrub", "http://" + rpcBackend(r, "127.0.0.6:0") + "/mcp", m.DaemonPID()},
	}
	ports := distinctPorts(r, 3)
	nginx, nginxDefault := fmt.Sprintf("127.0.0.2:%d", ports[0]), fmt.Sprintf("127.0.0.2:%d", ports[1])
	if worker, ok := startNginx(r, nginx, nginxDefault, direct); ok {
		variants = append(variants, variant{nginxVariant, "http://" + nginx + "/mcp", worker},
			variant{"nginx, default upstream", "http://" + nginxDefault + "/mcp", worker})
	} else {
		fmt.Println("  (nginx is not installed: make deps installs nginx-light; the nginx row is left out)")
	}
	relay := fmt.Sprintf("127.0.0.2:%d", ports[2])
	variants = append(variants, variant{"minimal Go relay (reference)", "http://" + relay + "/mcp", startMinimalRelay(r, relay, direct)})
	for _, conc := range conns {
		fmt.Printf("JSON-RPC tools/call, 1 kB request and answer, keep-alive, %s connection(s), %s s x %d rounds, median\n", conc, secs, rounds)
		res := make([][3][]float64, len(variants))
		cpu := make([][]float64, len(variants)) // the variant's process's CPU microseconds per request
		csw := make([][]float64, len(variants)) // its threads' context switches per request
		for round := range rounds {
			for i, v := range variants {
				var profiled <-chan error
				if profileDir != "" && round == 0 && strings.HasPrefix(v.name, "enforcer") {
					name := strings.NewReplacer(", ", "-", " ", "-", "+", "-").Replace(v.name)
					profiled = m.Profile(filepath.Join(profileDir, "rpc-"+conc+"-"+name+".pprof"), secs)
				}
				before, _ := lab.CPUTime(v.pid)
				vol0, invol0, _ := lab.ContextSwitches(v.pid)
				out := m.Run(m.Cgroup("agents/bench"), bins.Client, "rpc-bench", secs, conc, v.url, "1024")
				after, _ := lab.CPUTime(v.pid)
				vol1, invol1, _ := lab.ContextSwitches(v.pid)
				if profiled != nil {
					if err := <-profiled; err != nil {
						r.Fatalf("profile the daemon: %v", err)
					}
				}
				for j, k := range []string{"rps", "p50_us", "p99_us"} {
					res[i][j] = append(res[i][j], field(r, out, k))
				}
				if n := res[i][0][len(res[i][0])-1] * mustFloat(secs); n > 0 && v.pid != 0 {
					cpu[i] = append(cpu[i], float64((after-before).Microseconds())/n)
					csw[i] = append(csw[i], float64(vol1+invol1-vol0-invol0)/n)
				}
			}
		}
		base := [3]float64{median(res[0][0]), median(res[0][1]), median(res[0][2])}
		fmt.Printf("  %-28s %9s %9s %9s %9s %10s %10s %12s %13s\n", "", "req/s", "x direct", "p50 us", "p99 us", "added p50", "added p99", "proxy CPU", "proxy csw")
		for i, v := range variants {
			rps, p50, p99 := median(res[i][0]), median(res[i][1]), median(res[i][2])
			proxyCPU, proxyCSW := "-", "-"
			if len(cpu[i]) > 0 {
				proxyCPU = fmt.Sprintf("%.0f us/req", median(cpu[i]))
				proxyCSW = fmt.Sprintf("%.2f /req", median(csw[i]))
			}
			fmt.Printf("  %-28s %9.0f %9.3f %9.0f %9.0f %+10.0f %+10.0f %12s %13s\n", v.name, rps, rps/base[0], p50, p99, p50-base[1], p99-base[2], proxyCPU, proxyCSW)
		}
		if i := slices.IndexFunc(variants, func(v variant) bool { return v.name == nginxVariant }); i >= 0 {
			fmt.Printf("  enforcer (classify+scrub) / nginx throughput: %.3f\n", median(res[2][0])/median(res[i][0]))
		}
	}
}

// distinctPorts returns n free ports, no two the same (two FreePort calls may return one port).
func distinctPorts(r *lab.Runner, n int) []int {
	var ports []int
	for len(ports) < n {
		if p := lab.FreePort(r); !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports
}

func mustFloat(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
