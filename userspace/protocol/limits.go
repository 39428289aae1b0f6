package protocol

// Limits bound what a parser accepts. A zero field takes its default; the zero Limits is the
// defaults. Input over a limit is refused with an error that matches [ErrTooLarge].
type Limits struct {
	// MaxBodyBytes bounds one body, or one embedded JSON text (default 8 MiB).
	MaxBodyBytes int
	// MaxDepth bounds the nesting of JSON arrays and objects (default 128).
	MaxDepth int
	// MaxValues bounds the number of JSON values in one body (default 262,144).
	MaxValues int
	// MaxBatch bounds the elements of one JSON-RPC batch (default 1,000).
	MaxBatch int
	// MaxLineBytes bounds one line of an SSE stream (default 4 MiB).
	MaxLineBytes int
	// MaxEventBytes bounds the fields of one SSE event together (default 8 MiB).
	MaxEventBytes int
	// MaxStreamItems bounds the tool calls, choices and output items a stream parser tracks
	// (default 256).
	MaxStreamItems int
	// MaxStreamText bounds the text a stream parser accumulates for its summary (default 8 MiB).
	MaxStreamText int
	// AllowDuplicateKeys accepts objects that repeat a key (the last one counts, as in
	// JavaScript). By default such an object is malformed: receivers disagree about which copy
	// counts, and that disagreement is a way around inspection.
	AllowDuplicateKeys bool
}

// withDefaults fills zero fields with defaults.
func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxBodyBytes, 8<<20)
	def(&l.MaxDepth, 128)
	def(&l.MaxValues, 1<<18)
	def(&l.MaxBatch, 1000)
	def(&l.MaxLineBytes, 4<<20)
	def(&l.MaxEventBytes, 8<<20)
	def(&l.MaxStreamItems, 256)
	def(&l.MaxStreamText, 8<<20)
	return l
}
