package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

// cmdAuditKeygen writes a new audit payload key pair: the private key stays with whoever may
// read payloads; nodes get the public key (meshwarden run --audit-payload-key).
func cmdAuditKeygen(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("audit keygen", flag.ContinueOnError)
	flags.SetOutput(stderr)
	out := flags.String("out", "", "directory to write "+audit.PayloadKeyFile+" (0600) and "+audit.PayloadPublicKeyFile+" into")
	if err := flags.Parse(args); err != nil {
		return exitUsage
	}
	if *out == "" || flags.NArg() > 0 {
		fmt.Fprint(stderr, auditUsage)
		return exitUsage
	}
	keyPath, pubPath, err := audit.GeneratePayloadKey(*out)
	if err != nil {
		fmt.Fprintln(stderr, "meshwarden audit keygen:", err)
		return exitFailure
	}
	sealer, err := audit.ReadPayloadSealer(pubPath)
	if err != nil {
		fmt.Fprintln(stderr, "meshwarden audit keygen:", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "private key: %s (keep it off the nodes; it reads every payload sealed to it)\n", keyPath)
	fmt.Fprintf(stdout, "public key:  %s (meshwarden run --audit-payload-key %s)\n", pubPath, pubPath)
	fmt.Fprintf(stdout, "key id:      %s\n", sealer.KeyID())
	return exitOK
}

// openedRecord is what decrypt prints of a record with sealed payloads (-o json).
type openedRecord struct {
	ID         string  `json:"id"`
	Seq        uint64  `json:"seq"`
	ExchangeID string  `json:"exchange_id,omitempty"`
	Kind       string  `json:"kind"`
	Request    *string `json:"request,omitempty"`  // the request payload as forwarded
	Response   *string `json:"response,omitempty"` // the response payload as relayed
}

// cmdAuditDecrypt prints the payloads sealed in audit records, with the record each came from.
// A payload that does not open (another key, changed, moved from another record) is an error.
func cmdAuditDecrypt(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("audit decrypt", flag.ContinueOnError)
	flags.SetOutput(stderr)
	keyPath := flags.String("key", "", "audit payload private key ("+audit.PayloadKeyFile+", from meshwarden audit keygen)")
	output := flags.String("o", "text", "text (record id, then each payload) or json (one object per record)")
	files, err := parseInterspersed(flags, args)
	if err != nil {
		return exitUsage
	}
	if *keyPath == "" || len(files) == 0 || (*output != "text" && *output != "json") {
		fmt.Fprint(stderr, auditUsage)
		return exitUsage
	}
	opener, err := audit.ReadPayloadOpener(*keyPath)
	if err != nil {
		fmt.Fprintln(stderr, "meshwarden audit decrypt:", err)
		return exitFailure
	}
	opened := 0
	for _, file := range files {
		line := 0
		err = audit.ReadLines(ctx, file, false, 0, func(l []byte) error {
			line++
			r, err := audit.ParseRecord(l)
			if err != nil || r.PayloadSealed == nil && r.ResponseSealed == nil {
				return nil
			}
			req, resp, err := opener.OpenRecord(&r)
			if err != nil {
				return fmt.Errorf("%s:%d: %w", file, line, err)
			}
			opened++
			return printOpened(stdout, *output, &r, req, resp)
		})
		if err != nil {
			fmt.Fprintln(stderr, "meshwarden audit decrypt:", err)
			return exitFailure
		}
	}
	if opened == 0 {
		fmt.Fprintln(stderr, "meshwarden audit decrypt: no record with a sealed payload")
	}
	return exitOK
}

func printOpened(w io.Writer, output string, r *audit.Record, req, resp []byte) error {
	if output == "json" {
		o := openedRecord{ID: r.ID, Seq: r.Seq, ExchangeID: r.ExchangeID, Kind: r.Kind}
		if r.PayloadSealed != nil {
			s := string(req)
			o.Request = &s
		}
		if r.ResponseSealed != nil {
			s := string(resp)
			o.Response = &s
		}
		b, err := json.Marshal(o)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	for _, p := range []struct {
		part    string
		sealed  *audit.Sealed
		payload []byte
	}{{audit.PartRequest, r.PayloadSealed, req}, {audit.PartResponse, r.ResponseSealed, resp}} {
		if p.sealed == nil {
			continue
		}
		if _, err := fmt.Fprintf(w, "record %s seq %d exchange %s %s (%d bytes):\n%s\n", r.ID, r.Seq, r.ExchangeID, p.part, len(p.payload), p.payload); err != nil {
			return err
		}
	}
	return nil
}
