// Command leakagent is the agent of the AgentLeak replay (test/agentleak): an unchanged
// program that the harness starts inside an agent's cgroup. It knows nothing of Meshwarden.
// It reads a plan (test/agentleak/wire.Plan), talks to the scenario's services on every
// channel (MCP tool calls, A2A messages, a memory write, a log line, an artifact, the final
// answer) with the plan's behaviour, and writes one JSON line per message sent or answer
// received to the log file.
//
//	leakagent -plan PLAN.json -out LOG.jsonl [-exchange-timeout 5s] [-timeout 2m]
//
// Refusals by the mesh are expected (a leaky agent is refused); they are logged, not fatal.
// Exit status 1 only when the plan cannot be read or the log cannot be written.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/meshwarden/meshwarden/test/agentleak/wire"
)

func main() {
	planPath := flag.String("plan", "", "the plan (JSON)")
	out := flag.String("out", "", "the log to write (JSON lines)")
	timeout := flag.Duration("timeout", 2*time.Minute, "time allowed for the whole plan")
	exchangeTimeout := flag.Duration("exchange-timeout", 5*time.Second, "time allowed for one exchange, request to whole answer")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := run(ctx, *planPath, *out, *exchangeTimeout); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, planPath, out string, exchangeTimeout time.Duration) error {
	if planPath == "" || out == "" {
		return fmt.Errorf("usage: leakagent -plan PLAN.json -out LOG.jsonl")
	}
	data, err := os.ReadFile(planPath)
	if err != nil {
		return fmt.Errorf("read plan: %w", err)
	}
	var p wire.Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return fmt.Errorf("decode plan %s: %w", planPath, err)
	}
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("create log: %w", err)
	}
	lg := newLogger(f)
	a := newAgent(p, lg, exchangeTimeout)
	a.act(ctx)
	if err := lg.close(); err != nil {
		return fmt.Errorf("write log %s: %w", out, err)
	}
	fmt.Printf("ok sent=%d received=%d\n", lg.sent, lg.received)
	return nil
}
