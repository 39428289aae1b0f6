package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/meshwarden/meshwarden/agent/api"
)

// cmdIdentity runs `meshwarden identity revoke <agent>`.
func cmdIdentity(args []string, stdout, stderr io.Writer) int {
	usage := "usage: meshwarden identity revoke [--state-dir DIR] <agent id or SPIFFE id>"
	if len(args) == 0 || args[0] != "revoke" {
		fmt.Fprintln(stderr, usage)
		return exitUsage
	}
	fs := flag.NewFlagSet("identity revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stateDir := fs.String("state-dir", "/var/lib/meshwarden", "the daemon's state directory (its socket is there)")
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, usage)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), operatorTimeout)
	defer cancel()
	id, err := api.NewClient(api.SocketPath(*stateDir)).Revoke(ctx, fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "meshwarden identity revoke:", err)
		return exitFailure
	}
	fmt.Fprintln(stdout, "revoked", id)
	return exitOK
}
