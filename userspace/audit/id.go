package audit

import (
	"crypto/rand"
	"time"

	"github.com/google/uuid"
)

// newID returns a UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits, so
// ids sort roughly by time and never collide across nodes in practice.
func newID(now time.Time) string {
	var u [16]byte
	rand.Read(u[6:]) // never fails (crypto/rand panics rather than return an error)
	ms := uint64(now.UnixMilli())
	u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	u[6] = u[6]&0x0f | 0x70 // version 7
	u[8] = u[8]&0x3f | 0x80 // variant 10
	return uuid.UUID(u).String()
}
