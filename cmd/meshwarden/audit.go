package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

const auditUsage = `usage:
  meshwarden audit verify [--key PUB] [--progress] FILE...
  meshwarden audit tail [--follow] [--agent A] [--domain D] [--verdict V] [--kind K] [-o text|json] FILE
  meshwarden audit keygen --out DIR
  meshwarden audit decrypt --key PRIVATE [-o text|json] FILE...
`

func cmdAudit(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, auditUsage)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	switch args[0] {
	case "verify":
		return cmdAuditVerify(ctx, args[1:], stdout, stderr)
	case "tail":
		return cmdAuditTail(ctx, args[1:], stdout, stderr)
	case "keygen":
		return cmdAuditKeygen(args[1:], stdout, stderr)
	case "decrypt":
		return cmdAuditDecrypt(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "meshwarden audit: unknown command %q\n%s", args[0], auditUsage)
	return exitUsage
}

func cmdAuditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	flags.SetOutput(stderr)
	keyPath := flags.String("key", "", "public key that signs the checkpoints (default "+audit.PublicKeyFile+" beside the first FILE)")
	progress := flags.Bool("progress", false, "report progress on stderr even when it is not a terminal")
	files, err := parseInterspersed(flags, args)
	if err != nil {
		return exitUsage
	}
	if len(files) == 0 {
		fmt.Fprint(stderr, auditUsage)
		return exitUsage
	}
	opts := audit.VerifyOptions{}
	keyNote := "from --key " + *keyPath
	if *keyPath != "" {
		opts.Key, err = audit.ReadPublicKey(*keyPath)
	} else {
		// No key given: use the one the writer left beside the log, if any.
		beside := filepath.Join(filepath.Dir(files[0]), audit.PublicKeyFile)
		keyNote = "from " + beside + ", beside the log: pass --key with a copy you trust"
		if opts.Key, err = audit.ReadPublicKey(beside); errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "meshwarden audit verify:", err)
		return exitFailure
	}
	if *progress || isTerminal(stderr) {
		opts.Progress = func(p audit.Progress) {
			pct := 100.0
			if p.TotalBytes > 0 {
				pct = 100 * float64(p.Bytes) / float64(p.TotalBytes)
			}
			fmt.Fprintf(stderr, "verified %d records (%.0f%%)\n", p.Records, pct)
		}
	}
	rep, err := audit.Verify(ctx, files, opts)
	if err != nil {
		fmt.Fprintln(stderr, "meshwarden audit verify:", err)
		return exitFailure
	}
	for _, s := range rep.Seals {
		fmt.Fprintf(stdout, "sealed torn write: %s:%d, %d bytes at offset %d, sealed by seq %d\n", s.File, s.Line, s.Torn.Bytes, s.Torn.Offset, s.Seq)
	}
	if f := rep.Failure; f != nil {
		fmt.Fprintf(stdout, "audit log NOT intact: %s\n", f)
		return exitFailure
	}
	start := "from genesis"
	if !rep.FromGenesis {
		start = fmt.Sprintf("starting at seq %d (earlier files not given)", rep.FirstSeq)
	}
	fmt.Fprintf(stdout, "audit log intact: %d files, %d records, seq %d to %d, chain %s, head %.16s\n",
		len(rep.Files), rep.Records, rep.FirstSeq, rep.LastSeq, start, rep.Head)
	switch {
	case opts.Key == nil:
		fmt.Fprintf(stdout, "checkpoints: %d found, signatures NOT checked (no public key: pass --key)\n", rep.Checkpoints)
	default:
		fmt.Fprintf(stdout, "checkpoints: %d signatures verified with key %s (%s)\n", rep.Checkpoints, rep.KeyID, keyNote)
	}
	if rep.LastSeq > rep.SignedSeq {
		fmt.Fprintf(stdout, "unsigned tail: %d records after the last checkpoint\n", rep.LastSeq-rep.SignedSeq)
	}
	return exitOK
}

func cmdAuditTail(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("audit tail", flag.ContinueOnError)
	flags.SetOutput(stderr)
	var f audit.Filter
	follow := flags.Bool("follow", false, "keep reading as records are written, across rotation")
	flags.BoolVar(follow, "f", false, "shorthand for --follow")
	flags.StringVar(&f.Agent, "agent", "", "only records of this source or target agent")
	flags.StringVar(&f.Domain, "domain", "", "only records of this data domain")
	flags.StringVar(&f.Verdict, "verdict", "", "only records with this verdict (ALLOW, DENY, REDIRECT)")
	flags.StringVar(&f.Kind, "kind", "", "only records of this kind (flow, request, system, checkpoint, ...)")
	output := flags.String("o", "text", "text (one line per record) or json (the records as written)")
	files, err := parseInterspersed(flags, args)
	if err != nil {
		return exitUsage
	}
	if len(files) != 1 || (*output != "text" && *output != "json") {
		fmt.Fprint(stderr, auditUsage)
		return exitUsage
	}
	skipped := 0
	err = audit.ReadLines(ctx, files[0], *follow, 200*time.Millisecond, func(line []byte) error {
		r, err := audit.ParseRecord(line)
		if err != nil {
			skipped++
			return nil
		}
		if !f.Match(&r) {
			return nil
		}
		if *output == "json" {
			_, err = fmt.Fprintf(stdout, "%s\n", line)
		} else {
			_, err = fmt.Fprintln(stdout, audit.FormatText(&r))
		}
		return err
	})
	if skipped > 0 {
		fmt.Fprintf(stderr, "meshwarden audit tail: skipped %d lines that are not records (meshwarden audit verify tells why)\n", skipped)
	}
	if err != nil {
		fmt.Fprintln(stderr, "meshwarden audit tail:", err)
		return exitFailure
	}
	return exitOK
}

// parseInterspersed parses flags that may come before, between or after the positional
// arguments, which it returns.
func parseInterspersed(flags *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := flags.Parse(args); err != nil {
			return nil, err
		}
		rest := flags.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" { // everything after "--" is positional
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
