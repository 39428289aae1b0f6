package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/meshwarden/meshwarden/test/agentleak/wire"
)

// exchange is one HTTP request and what came back.
type exchange struct {
	status int
	micros int64
	header http.Header
	body   []byte
	err    error
}

// do sends body (JSON) to base+path and reads the answer.
func (a *agent) do(ctx context.Context, method, url string, body []byte, header http.Header) exchange {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return exchange{err: fmt.Errorf("build request: %w", err)}
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := a.client.Do(req)
	if err != nil {
		return exchange{err: err, micros: time.Since(start).Microseconds()}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return exchange{status: resp.StatusCode, header: resp.Header, body: data, err: err, micros: time.Since(start).Microseconds()}
}

// post sends one plain JSON message and logs it.
func (a *agent) post(ctx context.Context, method, base, suffix, receiver, channel string, v any) {
	body, err := marshal(v)
	path := a.plan.Prefix + suffix
	e := wire.Entry{Direction: wire.Sent, Channel: channel, Receiver: receiver, Method: method, Path: path, Body: body}
	if err != nil {
		e.Error = err.Error()
		a.log.add(e)
		return
	}
	x := a.do(ctx, method, base+path, body, nil)
	e.Status, e.Micros = x.status, x.micros
	if x.err != nil {
		e.Error = x.err.Error()
	}
	a.log.add(e)
}

// marshal encodes v as JSON without HTML escaping.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode message: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// asJSON returns data when it is one JSON value, else data as a JSON string, so that a
// refusal in plain text is logged as what it is.
func asJSON(data []byte) json.RawMessage {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil
	}
	if json.Valid(data) {
		return data
	}
	s, _ := json.Marshal(string(data))
	return s
}
