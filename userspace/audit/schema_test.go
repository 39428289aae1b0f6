package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const schemaFile = "schema/audit-record-v1.schema.json"

// schemaValidator checks JSON values against the subset of JSON Schema (2020-12) that the
// record schema uses. A keyword outside that subset is an error, so the schema cannot come to
// rely on something this validator silently ignores.
type schemaValidator struct {
	root map[string]any
}

func loadSchema(t *testing.T) *schemaValidator {
	t.Helper()
	data, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	root, err := decodeJSON(data)
	if err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	return &schemaValidator{root: root.(map[string]any)}
}

func decodeJSON(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// validateLine returns what is wrong with line, nothing when it is valid.
func (s *schemaValidator) validateLine(line []byte) []string {
	v, err := decodeJSON(line)
	if err != nil {
		return []string{err.Error()}
	}
	return s.validate(s.root, v, "$")
}

func (s *schemaValidator) validate(schema map[string]any, v any, at string) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	for kw, arg := range schema {
		switch kw {
		case "$schema", "$id", "title", "description", "$defs", "then":
		case "$ref":
			name, ok := strings.CutPrefix(arg.(string), "#/$defs/")
			def, found := s.root["$defs"].(map[string]any)[name].(map[string]any)
			if !ok || !found {
				bad("unresolvable $ref %v", arg)
				continue
			}
			errs = append(errs, s.validate(def, v, at)...)
		case "type":
			if !hasType(v, arg.(string)) {
				bad("%T is not of type %s", v, arg)
			}
		case "const":
			if !reflect.DeepEqual(v, arg) {
				bad("%v is not %v", v, arg)
			}
		case "enum":
			if !slices.ContainsFunc(arg.([]any), func(e any) bool { return reflect.DeepEqual(e, v) }) {
				bad("%v is not one of %v", v, arg)
			}
		case "required":
			if obj, ok := v.(map[string]any); ok {
				for _, name := range arg.([]any) {
					if _, ok := obj[name.(string)]; !ok {
						bad("missing %s", name)
					}
				}
			}
		case "properties":
			if obj, ok := v.(map[string]any); ok {
				for name, sub := range arg.(map[string]any) {
					if pv, ok := obj[name]; ok {
						errs = append(errs, s.validate(sub.(map[string]any), pv, at+"."+name)...)
					}
				}
			}
		case "additionalProperties":
			obj, ok := v.(map[string]any)
			props, _ := schema["properties"].(map[string]any)
			if ok && arg == false {
				for name := range obj {
					if _, known := props[name]; !known {
						bad("unknown property %s", name)
					}
				}
			} else if arg != false {
				bad("additionalProperties other than false is not supported")
			}
		case "items":
			if arr, ok := v.([]any); ok {
				for i, item := range arr {
					errs = append(errs, s.validate(arg.(map[string]any), item, fmt.Sprintf("%s[%d]", at, i))...)
				}
			}
		case "minimum":
			if n, ok := v.(json.Number); ok {
				f, _ := n.Float64()
				min, _ := arg.(json.Number).Float64()
				if f < min {
					bad("%v < minimum %v", n, min)
				}
			}
		case "minLength":
			n, _ := arg.(json.Number).Int64()
			if str, ok := v.(string); ok && int64(len([]rune(str))) < n {
				bad("%q shorter than %d", str, n)
			}
		case "pattern":
			if str, ok := v.(string); ok && !regexp.MustCompile(arg.(string)).MatchString(str) {
				bad("%q does not match %s", str, arg)
			}
		case "format":
			if arg != "date-time" {
				bad("format %v is not supported", arg)
			} else if str, ok := v.(string); ok {
				if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
					bad("%q is not a date-time", str)
				}
			}
		case "allOf":
			for _, sub := range arg.([]any) {
				errs = append(errs, s.validate(sub.(map[string]any), v, at)...)
			}
		case "if":
			if len(s.validate(arg.(map[string]any), v, at)) == 0 {
				if then, ok := schema["then"].(map[string]any); ok {
					errs = append(errs, s.validate(then, v, at)...)
				}
			}
		default:
			bad("schema keyword %q is not supported by this validator", kw)
		}
	}
	return errs
}

func hasType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		return ok && !strings.ContainsAny(n.String(), ".eE")
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	}
	return false
}

// fullRecord sets every field a caller may set.
func fullRecord() Record {
	return Record{
		Time: time.Now(), Node: "node-b", Kind: KindMessage, AgentID: "orchestrator", Role: "ORCHESTRATOR", Zone: "control",
		PID: 4242, Comm: "python3", CgroupID: 1234, Cookie: 99, SPIFFEID: "spiffe://mesh/agent/orchestrator", Measurement: "sha256:ab12",
		Source: "10.0.0.2:51234", Destination: "10.0.1.5:8080", DstZone: "tools", TargetAgent: "retriever", TargetService: "vault",
		Transport: "tcp", Protocol: "mcp", ExchangeID: "ex-1", Domain: "pii_inference", Tier: "COMPUTATION", Channel: ChannelToolInput,
		Verdict: "ALLOW", Reason: "relayed", ReasonCodes: []string{"role_allowed", "fields_redacted"}, MaskedKeys: []string{"x-agent-id", "date"},
		Method: "POST", Path: "/mcp", RPCMethod: "tools/call", Tool: "lookup_patient", Status: 200, BytesIn: 512, BytesOut: 2048,
		PayloadBytes: 400, PayloadSHA256: strings.Repeat("ab", 32), DurationNS: 1_500_000, Message: "m",
	}
}

func TestRecordsOfEveryKindValidateAgainstSchema(t *testing.T) {
	s := loadSchema(t)
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.CheckpointEvery = 3
	opts.MaxBytes = 2048
	w := open(t, opts)
	sealed := sealedRecord(t)
	recs := []Record{fullRecord(), sealed, sample(1), {Kind: KindFlow, PID: 7, Verdict: "DENY", Reason: "zone_policy", Transport: "udp"},
		{Kind: KindSystem, Message: "daemon started"}}
	for _, k := range []string{KindRequest, KindResponse, KindDecision} {
		recs = append(recs, Record{Kind: k, Channel: ChannelFinalOutput})
	}
	for range 4 {
		for _, r := range recs {
			if _, err := w.Append(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
	}
	closeWriter(t, w)
	appendBytes(t, opts.Path, []byte(`{"v":1,"seq`)) // sealed on reopen
	closeWriter(t, open(t, opts))

	kinds := map[string]int{}
	for _, f := range logFiles(t, dir) {
		for i, l := range lines(t, f) {
			l = bytes.TrimSuffix(l, []byte{'\n'})
			r, err := ParseRecord(l)
			if err != nil {
				continue // the sealed torn bytes
			}
			kinds[r.Kind]++
			if r.PayloadSealed != nil && r.ResponseSealed != nil {
				kinds["sealed"]++
			}
			if r.Torn != nil {
				kinds["seal"]++
			}
			if errs := s.validateLine(l); len(errs) > 0 {
				t.Errorf("%s:%d: %s", f, i+1, strings.Join(errs, "; "))
			}
		}
	}
	for _, k := range []string{KindFlow, KindRequest, KindResponse, KindMessage, KindDecision, KindSystem, KindCheckpoint, "seal", "sealed"} {
		if kinds[k] == 0 {
			t.Errorf("no %s record was validated", k)
		}
	}
}

func TestSchemaRejectsBrokenRecords(t *testing.T) {
	s := loadSchema(t)
	dir := t.TempDir()
	opts := testOptions(dir)
	w := open(t, opts)
	appendN(t, w, 0, 1)
	closeWriter(t, w)
	good := bytes.TrimSuffix(lines(t, opts.Path)[1], []byte{'\n'}) // the checkpoint of Close
	if errs := s.validateLine(good); len(errs) > 0 {
		t.Fatalf("valid checkpoint refused: %v", errs)
	}
	for name, edit := range map[string][2]string{
		"missing seq":         {`"seq":2,`, ``},
		"unknown kind":        {`"kind":"checkpoint"`, `"kind":"note"`},
		"unknown field":       {`"v":1,`, `"v":1,"extra":true,`},
		"prev not a hash":     {`"prev":"`, `"prev":"X`},
		"version 2":           {`"v":1,`, `"v":2,`},
		"seq not an integer":  {`"seq":2,`, `"seq":2.5,`},
		"checkpoint on a req": {`"kind":"checkpoint"`, `"kind":"request"`},
		"bad time":            {`"time":"`, `"time":"yesterday`},
	} {
		bad := bytes.Replace(good, []byte(edit[0]), []byte(edit[1]), 1)
		if bytes.Equal(bad, good) {
			t.Fatalf("%s: edit did not apply", name)
		}
		if errs := s.validateLine(bad); len(errs) == 0 {
			t.Errorf("%s: accepted %s", name, bad)
		}
	}
}

// The schema and the Go types name the same fields: a field added to one is added to the other.
func TestSchemaNamesEveryRecordField(t *testing.T) {
	s := loadSchema(t)
	props := s.root["properties"].(map[string]any)
	for typ, schemaProps := range map[reflect.Type]map[string]any{
		reflect.TypeFor[Record]():     props,
		reflect.TypeFor[Checkpoint](): props["checkpoint"].(map[string]any)["properties"].(map[string]any),
		reflect.TypeFor[Torn]():       props["torn"].(map[string]any)["properties"].(map[string]any),
		reflect.TypeFor[Sealed]():     s.root["$defs"].(map[string]any)["sealed"].(map[string]any)["properties"].(map[string]any),
	} {
		var names []string
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			names = append(names, name)
			if _, ok := schemaProps[name]; !ok {
				t.Errorf("%s field %s (%q) is not in the schema", typ.Name(), f.Name, name)
			}
		}
		for name := range schemaProps {
			if !slices.Contains(names, name) {
				t.Errorf("schema property %q is not a field of %s", name, typ.Name())
			}
		}
	}
}

// sealedRecord is a request record carrying both sealed payloads.
func sealedRecord(t *testing.T) Record {
	t.Helper()
	sealer, _ := testPayloadKey(t)
	r := fullRecord()
	r.Kind, r.ID = KindRequest, NewID()
	var err error
	if r.PayloadSealed, err = sealer.Seal([]byte(`{"q":"[redacted:ssn]"}`), r.ID, r.ExchangeID, PartRequest); err != nil {
		t.Fatal(err)
	}
	if r.ResponseSealed, err = sealer.Seal(nil, r.ID, r.ExchangeID, PartResponse); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSchemaRejectsBrokenSealedPayloads(t *testing.T) {
	s := loadSchema(t)
	dir := t.TempDir()
	opts := testOptions(dir)
	w := open(t, opts)
	if _, err := w.Append(context.Background(), sealedRecord(t)); err != nil {
		t.Fatal(err)
	}
	closeWriter(t, w)
	good := bytes.TrimSuffix(lines(t, opts.Path)[0], []byte{'\n'})
	if errs := s.validateLine(good); len(errs) > 0 {
		t.Fatalf("valid sealed record refused: %v", errs)
	}
	for name, edit := range map[string][2]string{
		"other aead":          {`"aead":"chacha20-poly1305"`, `"aead":"aes-128-gcm"`},
		"enc not base64":      {`"enc":"`, `"enc":"!`},
		"no key id":           {`"key_id":"`, `"key_ix":"`},
		"extra sealed field":  {`"kem":`, `"plaintext":"x","kem":`},
		"sealed on a message": {`"kind":"request"`, `"kind":"message"`},
	} {
		bad := bytes.Replace(good, []byte(edit[0]), []byte(edit[1]), 1)
		if bytes.Equal(bad, good) {
			t.Fatalf("%s: edit did not apply", name)
		}
		if errs := s.validateLine(bad); len(errs) == 0 {
			t.Errorf("%s: accepted %s", name, bad)
		}
	}
}
