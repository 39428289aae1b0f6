// Package protocol is Meshwarden's protocol-understanding layer: a pure library (no sockets) that
// turns the bodies of an HTTP exchange into typed, channel-labelled messages.
//
// It understands JSON-RPC 2.0, MCP (Streamable HTTP, the legacy HTTP+SSE transport and the
// stateless revision with Mcp-Method / Mcp-Name headers), A2A (v0.3 and 1.0), and OpenAI-style LLM
// APIs (chat completions and the Responses API, both whole and streamed). Server-sent event
// streams are read and re-written event by event, never buffered whole.
//
// Every body is parsed once into a [Document]: a JSON tree that remembers the byte offsets of each
// value, so that a classifier can visit every value with its [Path] ([Document.Walk]) and a
// scrubber can replace or delete values in place ([Document.Replace], [Document.Delete]) and
// re-serialise the body ([Document.Bytes]) with everything it did not touch left byte for byte as
// it was, unknown fields included.
//
// Parsing is strict where a lenient reading would let the enforcer and the receiver disagree about
// what was said: object keys match exactly (encoding/json would match "Method" for "method"), and
// an object with a duplicate key is malformed unless [Limits].AllowDuplicateKeys is set.
//
// The entry points are [Parser.ParseRequest], [Parser.ParseResponse] and [Parser.NewStreamParser];
// each message they return carries a [Channel] chosen by the rule table in channel.go (documented
// in CHANNELS.md) from the message's [Kind] and the caller's [Hints].
package protocol
