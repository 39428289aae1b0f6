package mux

import (
	"encoding/binary"
	"fmt"
	"io"
)

// frameType is the kind of a frame.
type frameType uint8

const (
	frameSettings frameType = 0x0
	frameOpen     frameType = 0x1
	frameReply    frameType = 0x2
	frameData     frameType = 0x3
	frameWindow   frameType = 0x4
	frameReset    frameType = 0x5
	framePing     frameType = 0x6
	frameGoAway   frameType = 0x7
	frameMark     frameType = 0x8
)

func (t frameType) String() string {
	switch t {
	case frameSettings:
		return "SETTINGS"
	case frameOpen:
		return "OPEN"
	case frameReply:
		return "REPLY"
	case frameData:
		return "DATA"
	case frameWindow:
		return "WINDOW"
	case frameReset:
		return "RESET"
	case framePing:
		return "PING"
	case frameGoAway:
		return "GOAWAY"
	case frameMark:
		return "MARK"
	}
	return fmt.Sprintf("frame type 0x%x", uint8(t))
}

// Frame flags.
const (
	flagFin uint8 = 0x1 // DATA: the sender's last frame on the stream
	flagAck uint8 = 0x1 // PING: an answer
)

const (
	headerLen = 9
	// MaxPayload is the largest frame payload either side sends or accepts.
	MaxPayload = 16 << 10
	// maxData is the largest DATA payload sent: header and payload fill one 16 KiB TLS record.
	maxData = MaxPayload - headerLen
)

// header is a frame header.
type header struct {
	length uint32
	typ    frameType
	flags  uint8
	stream uint32
}

func (h header) encode(b *[headerLen]byte) {
	b[0], b[1], b[2] = byte(h.length>>16), byte(h.length>>8), byte(h.length)
	b[3] = byte(h.typ)
	b[4] = h.flags
	binary.BigEndian.PutUint32(b[5:], h.stream&0x7fffffff)
}

// readHeader reads one frame header and checks its length.
func readHeader(r io.Reader, b *[headerLen]byte) (header, error) {
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return header{}, err
	}
	h := header{
		length: uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]),
		typ:    frameType(b[3]),
		flags:  b[4],
		stream: binary.BigEndian.Uint32(b[5:]) & 0x7fffffff,
	}
	if h.length > MaxPayload {
		return header{}, protocolError("%s frame of %d bytes exceeds %d", h.typ, h.length, MaxPayload)
	}
	return h, nil
}

// Settings ids.
const (
	settingMaxStreams uint16 = 1
	settingWindow     uint16 = 2
)

// settings is what one side announces in its SETTINGS frame.
type settings struct {
	maxStreams uint32
	window     uint32
}

func (s settings) encode() []byte {
	b := make([]byte, 0, 12)
	b = binary.BigEndian.AppendUint16(b, settingMaxStreams)
	b = binary.BigEndian.AppendUint32(b, s.maxStreams)
	b = binary.BigEndian.AppendUint16(b, settingWindow)
	b = binary.BigEndian.AppendUint32(b, s.window)
	return b
}

func decodeSettings(p []byte) (settings, error) {
	if len(p)%6 != 0 {
		return settings{}, protocolError("SETTINGS payload of %d bytes is not a list of 6-byte entries", len(p))
	}
	var s settings
	for ; len(p) > 0; p = p[6:] {
		v := binary.BigEndian.Uint32(p[2:])
		switch binary.BigEndian.Uint16(p) {
		case settingMaxStreams:
			s.maxStreams = v
		case settingWindow:
			s.window = v
		}
	}
	if s.maxStreams == 0 || s.window == 0 || s.window > maxWindow {
		return settings{}, protocolError("SETTINGS with max streams %d and window %d", s.maxStreams, s.window)
	}
	return s, nil
}
