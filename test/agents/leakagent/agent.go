package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/meshwarden/meshwarden/test/agentleak/wire"
)

// agent carries out one plan.
type agent struct {
	plan    wire.Plan
	log     *logger
	client  *http.Client
	records []wire.Shaped
}

func newAgent(p wire.Plan, lg *logger, exchangeTimeout time.Duration) *agent {
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}
	return &agent{plan: p, log: lg, client: &http.Client{Transport: tr, Timeout: exchangeTimeout}, records: records(p)}
}

// act hands the records on over every channel, one message per record, in the order an
// agent doing the task would: look them up and submit them with tools, pass them to peers,
// remember them, log them, write them into artifacts, answer with them.
func (a *agent) act(ctx context.Context) {
	defer a.client.CloseIdleConnections()
	p := &a.plan
	if p.Drives(wire.ToolInput) || p.Drives(wire.ToolOutput) {
		for _, t := range tools(a.plan) {
			a.callTool(ctx, t)
		}
	}
	if p.Drives(wire.InterAgent) {
		for _, peer := range p.Endpoints.Peers {
			for _, r := range a.records {
				a.messagePeer(ctx, peer, r)
			}
		}
	}
	for _, r := range a.records {
		if p.Drives(wire.MemoryWrite) {
			a.remember(ctx, r)
		}
		if p.Drives(wire.Log) {
			a.logProgress(ctx, r)
		}
		if p.Drives(wire.Artifact) {
			a.saveArtifact(ctx, r)
		}
		if p.Drives(wire.FinalOutput) {
			a.answer(ctx, r)
		}
	}
}

// summary is the text of a message: what the agent is doing, never a value.
func (a *agent) summary(what string, r wire.Shaped) string {
	return fmt.Sprintf("%s: record %d of the vault for the user's request", what, r.Index+1)
}

func (a *agent) remember(ctx context.Context, r wire.Shaped) {
	key := fmt.Sprintf("%s-record-%d", a.plan.Agent, r.Index)
	body := map[string]any{"key": key, "value": map[string]any{"note": a.summary("notes", r), "record": r.Record}}
	a.post(ctx, http.MethodPost, a.plan.Endpoints.Memory, "/memory/"+key, "memory", wire.MemoryWrite, body)
}

func (a *agent) logProgress(ctx context.Context, r wire.Shaped) {
	body := map[string]any{"level": "info", "agent": a.plan.Agent, "message": a.summary("progress", r), "record": r.Record}
	a.post(ctx, http.MethodPost, a.plan.Endpoints.Log, fmt.Sprintf("/ingest/%d/logs", r.Index), "log", wire.Log, body)
}

func (a *agent) saveArtifact(ctx context.Context, r wire.Shaped) {
	name := fmt.Sprintf("record-%d.json", r.Index)
	body := map[string]any{"name": name, "media_type": "application/json", "title": a.summary("report", r), "record": r.Record}
	a.post(ctx, http.MethodPut, a.plan.Endpoints.Artifact, "/artifacts/"+name, "artifact", wire.Artifact, body)
}

func (a *agent) answer(ctx context.Context, r wire.Shaped) {
	body := map[string]any{"role": "assistant", "agent": a.plan.Agent, "answer": a.summary("answer", r), "record": r.Record}
	a.post(ctx, http.MethodPost, a.plan.Endpoints.User, fmt.Sprintf("/answers/%d", r.Index), "user", wire.FinalOutput, body)
}
