package main

import (
	"github.com/meshwarden/meshwarden/test/agentleak/wire"
)

// records returns what the plan's behaviour hands on: each record, whole or cut down to its
// allowed fields.
func records(p wire.Plan) []wire.Shaped {
	return wire.Shape(p.Records, p.Allowed, p.Behaviour)
}

// tools returns the tools the behaviour calls: all of them (leaky), or those the agent is
// cleared for (compliant).
func tools(p wire.Plan) []wire.Tool {
	var out []wire.Tool
	for _, t := range p.Endpoints.Tools {
		if p.Behaviour == wire.Leaky || t.Cleared {
			out = append(out, t)
		}
	}
	return out
}
