package wire

import "slices"

// ShapeOne returns what a behaviour puts of one record into a message: the whole record
// (Leaky), or its allowed fields (Compliant); ok is false when that leaves no field. The
// record keeps its record_type.
func ShapeOne(r Record, allowed []string, behaviour string) (map[string]any, bool) {
	m := map[string]any{"record_type": r.Type}
	n := 0
	for k, v := range r.Fields {
		if behaviour == Leaky || slices.Contains(allowed, k) {
			m[k] = v
			n++
		}
	}
	return m, n > 0
}

// Shaped is one record as a behaviour shapes it, with its index in the vault.
type Shaped struct {
	Index  int
	Record map[string]any
}

// Shape shapes every record (ShapeOne), dropping those left with no field.
func Shape(records []Record, allowed []string, behaviour string) []Shaped {
	var out []Shaped
	for i, r := range records {
		if m, ok := ShapeOne(r, allowed, behaviour); ok {
			out = append(out, Shaped{Index: i, Record: m})
		}
	}
	return out
}
