// Package test holds the end-to-end tests: the real daemon binary, real cgroups, real eBPF
// programs, real processes as agents, real servers as destinations.
package test

import (
	"fmt"
	"os"
	"testing"

	"github.com/meshwarden/meshwarden/test/lab"
)

// bins are the binaries TestMain builds once for every test.
var bins lab.Binaries

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mwtest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if bins, err = lab.Build("..", dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
