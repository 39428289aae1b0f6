// Package mux multiplexes bidirectional byte streams over one reliable, ordered connection (the
// tunnel's mutual TLS 1.3 connection). It is the tunnel's framing layer and knows nothing about
// identities: the client side opens streams with a list of header fields, the server side
// accepts them and answers each with a status and fields, and then both sides exchange bytes
// with per-stream flow control and TCP-like half-close.
//
// # Wire format (version 1)
//
// Every frame is a 9-byte header followed by its payload:
//
//	+----------------+----------+-----------+-------------------+
//	| length (24 bit)| type (8) | flags (8) | stream id (32)    |
//	+----------------+----------+-----------+-------------------+
//	| payload (length bytes, at most 16 KiB)                    |
//	+-----------------------------------------------------------+
//
// All integers are big-endian. The frame types are:
//
//	SETTINGS 0x0  stream 0. The first frame each side sends. Payload: (id uint16, value uint32)
//	              pairs: 1 = streams the sender accepts at once, 2 = the receive window the
//	              sender grants each stream. Unknown ids are ignored.
//	OPEN     0x1  client only, on a new stream id greater than every earlier one. Payload: fields.
//	REPLY    0x2  server only, once per stream. Payload: status uint16, then fields. A status
//	              other than 2xx ends the stream.
//	DATA     0x3  payload bytes; flag FIN (0x1) = the sender will send no more (half-close).
//	WINDOW   0x4  payload: increment uint32: the receiver consumed that many bytes of the stream.
//	RESET    0x5  payload: code uint32. Ends the stream in both directions at once.
//	PING     0x6  stream 0, 8 opaque bytes; flag ACK (0x1) on the answer.
//	GOAWAY   0x7  stream 0, payload: last stream id uint32, code uint32. The sender processes no
//	              stream above that id; the receiver opens no new stream on this connection.
//	MARK     0x8  client only, on an open stream. Payload: fields. Delivered to the server's
//	              reader in order with the stream's DATA (between the bytes sent before and
//	              after it); takes no window, at most 64 unread per stream. The tunnel marks
//	              the start of each HTTP exchange with it (per-request credential).
//
// Unknown frame types are ignored. Fields are (name length uint8, name, value length uint16,
// value) records, in order.
//
// Flow control is per stream: a side may have at most the peer's advertised window of DATA
// bytes in flight on a stream; the receiver returns credit with WINDOW as the application reads.
// The receive side therefore never buffers more than window bytes per stream, and a session
// never more than streams x window. DATA beyond the window is a protocol error that closes the
// connection.
//
// A stream ends cleanly when both sides have sent FIN, or abruptly when either sends RESET.
// Stream.Close sends FIN (if not yet sent) followed by RESET (if the peer has not yet finished),
// as closing a TCP socket does.
package mux
