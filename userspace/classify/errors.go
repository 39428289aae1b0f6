package classify

import (
	"errors"
	"fmt"

	"github.com/meshwarden/meshwarden/policy"
)

var errEmptyKey = errors.New("sensitive field with an empty key")

// actionError is an action a Classifier does not know.
type actionError struct {
	what   string
	action policy.Action
}

func (e *actionError) Error() string {
	return fmt.Sprintf("%s: unknown action %q", e.what, e.action)
}

func validAction(a policy.Action) bool {
	return a == policy.ActionBlock || a == policy.ActionRedact || a == policy.ActionAudit
}
