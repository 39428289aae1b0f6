package scrub

// MetadataPaths returns the paths (for Metadata.CleanAt) of the metadata objects of MCP and
// A2A JSON-RPC messages, requests and responses, for callers that do not locate them
// themselves:
//   - MCP: params._meta, result._meta;
//   - A2A: the metadata of the request, its message and each part, and of a result task, its
//     status message, history messages, artifacts and their parts, and of streamed status and
//     artifact updates.
//
// Paths that a message does not have cost a map lookup each.
func MetadataPaths() [][]string {
	return [][]string{
		{"params", "_meta"},
		{"result", "_meta"},
		{"params", "metadata"},
		{"params", "message", "metadata"},
		{"params", "message", "parts", "*", "metadata"},
		{"result", "metadata"},
		{"result", "parts", "*", "metadata"},
		{"result", "status", "message", "metadata"},
		{"result", "history", "*", "metadata"},
		{"result", "artifacts", "*", "metadata"},
		{"result", "artifacts", "*", "parts", "*", "metadata"},
		{"result", "artifact", "metadata"},
		{"result", "artifact", "parts", "*", "metadata"},
	}
}

// ClientInfoPaths returns the paths (for ClientInfoAt) of MCP's Implementation objects:
// params.clientInfo of initialize and result.serverInfo of its response.
func ClientInfoPaths() [][]string {
	return [][]string{{"params", "clientInfo"}, {"result", "serverInfo"}}
}
