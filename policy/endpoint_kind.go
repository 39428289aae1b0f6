package policy

// Endpoint kinds: the values of zones[].kind and agents[].kind. They say what kind of endpoint
// a destination or an agent is, so that the enforcer labels each message with the channel it
// travels (userspace/protocol/CHANNELS.md): what goes to a user_facing agent is final_output,
// what goes to a memory zone is memory_write, and so on.
const (
	KindAgent      = "agent"       // another agent (A2A peer)
	KindTool       = "tool"        // a tool server (MCP, plain HTTP API)
	KindLLM        = "llm"         // a model API
	KindMemory     = "memory"      // a memory store
	KindLog        = "log"         // a log or telemetry sink
	KindArtifact   = "artifact"    // an artifact or file store
	KindUserFacing = "user_facing" // a user-facing frontend: what reaches it, a user reads
)

// EndpointKinds returns every endpoint kind a policy may name.
func EndpointKinds() []string {
	return []string{KindAgent, KindTool, KindLLM, KindMemory, KindLog, KindArtifact, KindUserFacing}
}

// ZoneKind returns the endpoint kind of the zone with the given name ("" when the zone names
// none, or for world and unknown zones).
func (p *Policy) ZoneKind(name string) string {
	for i := range p.Zones {
		if p.Zones[i].Name == name {
			return p.Zones[i].Kind
		}
	}
	return ""
}
