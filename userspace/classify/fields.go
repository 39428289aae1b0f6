package classify

import (
	"strings"

	"github.com/meshwarden/meshwarden/policy"
)

// fieldSet finds sensitive_fields keys, case-insensitively. Keys are grouped by length so
// that most object keys are rejected without comparing any text.
type fieldSet struct {
	byLen map[int][]policy.SensitiveField
}

func newFieldSet(fields []policy.SensitiveField) (fieldSet, error) {
	fs := fieldSet{byLen: map[int][]policy.SensitiveField{}}
	for _, f := range fields {
		if f.Key == "" {
			return fieldSet{}, errEmptyKey
		}
		if !validAction(f.Action) {
			return fieldSet{}, &actionError{what: "sensitive field " + f.Key, action: f.Action}
		}
		fs.byLen[len(f.Key)] = append(fs.byLen[len(f.Key)], f)
	}
	return fs, nil
}

// lookup returns the action for an object key, and whether the key is sensitive.
func (fs fieldSet) lookup(key string) (policy.Action, bool) {
	for _, f := range fs.byLen[len(key)] {
		if strings.EqualFold(f.Key, key) {
			return f.Action, true
		}
	}
	return "", false
}

func (fs fieldSet) empty() bool { return len(fs.byLen) == 0 }
