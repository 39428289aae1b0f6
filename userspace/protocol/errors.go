package protocol

import (
	"errors"
	"fmt"
)

// Errors that parsers wrap, so that callers can tell what kind of refusal to answer with
// (errors.Is): malformed input is a 400 or a JSON-RPC -32700, an invalid JSON-RPC envelope a
// -32600, input over a limit a 413 (or 431 for headers).
var (
	// ErrMalformed: the bytes are not what the protocol allows (not JSON, bad SSE, wrong shape).
	ErrMalformed = errors.New("malformed input")
	// ErrTooLarge: the input is over one of the [Limits].
	ErrTooLarge = errors.New("input over limit")
	// ErrInvalidRequest: well-formed JSON that is not a valid JSON-RPC 2.0 message.
	ErrInvalidRequest = errors.New("invalid JSON-RPC request")
	// ErrNoValue: a [Path] that names no value of the document.
	ErrNoValue = errors.New("no value at path")
	// ErrHeaderMismatch: MCP Mcp-Method / Mcp-Name headers that disagree with the body.
	ErrHeaderMismatch = errors.New("MCP headers disagree with body")
)

// SyntaxError is a JSON syntax error at a byte offset of the parsed text.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("json: %s at offset %d", e.Msg, e.Offset) }

// Is makes a SyntaxError match [ErrMalformed].
func (e *SyntaxError) Is(target error) bool { return target == ErrMalformed }
