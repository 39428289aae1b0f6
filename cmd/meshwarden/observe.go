package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/meshwarden/meshwarden/agent/api"
)

const observeUsage = "usage: meshwarden observe [--state-dir DIR] [--agent A] [--verdict V] [--kind flow|request] [--domain D] [--channel C] [--since DURATION|RFC3339] [--follow] [-o text|json]"

func cmdObserve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("observe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stateDir := fs.String("state-dir", "/var/lib/meshwarden", "the daemon's state directory (its socket is there)")
	var f api.Filter
	fs.StringVar(&f.Agent, "agent", "", "only events of this source agent")
	fs.StringVar(&f.Verdict, "verdict", "", "only events with this verdict (ALLOW, DENY, REDIRECT)")
	fs.StringVar(&f.Kind, "kind", "", "only flows (kernel decisions) or requests (enforcer exchanges)")
	fs.StringVar(&f.Domain, "domain", "", "only exchanges the enforcer classified in this data domain")
	fs.StringVar(&f.Channel, "channel", "", "only exchanges on this channel (inter_agent, tool_input, ...)")
	since := fs.String("since", "", "only events since this long ago (5m) or this time (RFC 3339)")
	fs.BoolVar(&f.Follow, "follow", false, "keep streaming new events until interrupted")
	fs.BoolVar(&f.Follow, "f", false, "shorthand for --follow")
	output := fs.String("o", "text", "text (one line per event) or json (one object per line)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 0 || (*output != "text" && *output != "json") {
		fmt.Fprintln(stderr, observeUsage)
		return exitUsage
	}
	if *since != "" {
		t, err := parseSince(*since, time.Now())
		if err != nil {
			fmt.Fprintln(stderr, "meshwarden observe: --since:", err)
			return exitUsage
		}
		f.Since = t
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !f.Follow {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, operatorTimeout)
		defer cancel()
	}
	enc := json.NewEncoder(stdout)
	err := api.NewClient(api.SocketPath(*stateDir)).Events(ctx, f, func(e api.Event) error {
		if *output == "json" {
			return enc.Encode(e)
		}
		_, err := fmt.Fprintln(stdout, formatEvent(e))
		return err
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "meshwarden observe:", err)
		return exitFailure
	}
	return exitOK
}

// parseSince reads a duration before now ("90s", "5m") or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("%q is negative", s)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a duration (5m) nor an RFC 3339 time", s)
	}
	return t, nil
}

// formatEvent is one line: time, kind, source, target, what, verdict, reason.
func formatEvent(e api.Event) string {
	ts := e.Time.Local().Format("2006-01-02T15:04:05.000")
	if e.Kind == api.KindLost {
		return fmt.Sprintf("%s %-7s %d events dropped: this reader fell behind", ts, e.Kind, e.Lost)
	}
	src := e.Agent
	if src == "" {
		src = "unknown-agent"
	}
	if e.Zone != "" {
		src += "(" + e.Zone + ")"
	}
	if e.Comm != "" {
		src += fmt.Sprintf(" %s[%d]", e.Comm, e.PID)
	}
	dst := e.Target
	if e.DstZone != "" {
		dst += "(" + e.DstZone + ")"
	}
	var what []string
	proto := e.Protocol
	if proto == "" {
		proto = e.Transport
	}
	what = append(what, proto)
	for _, s := range []string{e.Domain, e.Channel, e.Method, e.Path} {
		if s != "" {
			what = append(what, s)
		}
	}
	if e.Status != 0 {
		what = append(what, fmt.Sprint(e.Status))
	}
	return fmt.Sprintf("%s %-7s %s -> %s %s %s %s", ts, e.Kind, src, dst, strings.Join(what, " "), e.Verdict, e.Reason)
}
