package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FieldError is one problem in a policy file, reported at the line of the offending YAML node.
type FieldError struct {
	File string
	Line int // 1-based; 0 only when the YAML parser itself gave no position
	Msg  string
}

// Error returns "file:line: msg" (or "file: msg" when the line is unknown).
func (e *FieldError) Error() string {
	if e.Line <= 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Errors is every problem found in one policy file, in file order.
type Errors []*FieldError

// Error returns one "file:line: msg" per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As and errors.Is look at each FieldError.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// problems collects the FieldErrors of one file while it is parsed and validated.
type problems struct {
	file    string
	found   Errors
	columns []int // column of each found problem, to order problems that share a line
}

// at records a problem at a line and column (0 when unknown).
func (p *problems) at(line, column int, format string, args ...any) {
	p.found = append(p.found, &FieldError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
	p.columns = append(p.columns, column)
}

// node records a problem at the position of n.
func (p *problems) node(n *yaml.Node, format string, args ...any) {
	p.at(n.Line, n.Column, format, args...)
}

// syntax records an error from the YAML parser, lifting its "line N:" into FieldError.Line.
func (p *problems) syntax(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if n, convErr := strconv.Atoi(num); convErr == nil {
				line, msg = n, tail
			}
		}
	}
	p.at(line, 0, "invalid YAML: %s", msg)
}

// err returns the problems in file order (by line, then column; problems at one position keep
// the order they were found in), or nil when there are none.
func (p *problems) err() error {
	if len(p.found) == 0 {
		return nil
	}
	order := make([]int, len(p.found))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(p.found[a].Line, p.found[b].Line), cmp.Compare(p.columns[a], p.columns[b]))
	})
	out := make(Errors, len(order))
	for i, j := range order {
		out[i] = p.found[j]
	}
	return out
}
