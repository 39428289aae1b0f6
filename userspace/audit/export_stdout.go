package audit

import (
	"context"
	"fmt"
	"io"
)

// lineSink writes lines, each with its newline, to a writer: one Write per batch.
type lineSink struct{ w io.Writer }

func (s lineSink) Send(ctx context.Context, lines [][]byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n := 0
	for _, l := range lines {
		n += len(l) + 1
	}
	buf := make([]byte, 0, n)
	for _, l := range lines {
		buf = append(append(buf, l...), '\n')
	}
	if _, err := s.w.Write(buf); err != nil {
		return fmt.Errorf("write audit lines: %w", err)
	}
	return nil
}

// NewLineExporter exports the log's lines as JSON lines, exactly as written to the log, to w
// (the daemon's stdout; its logs go to stderr). A failed write is not retried: its lines are
// counted as given up.
func NewLineExporter(w io.Writer, opts ExportOptions) *Exporter {
	if opts.Name == "" {
		opts.Name = "stdout"
	}
	return NewExporter(lineSink{w}, opts)
}
