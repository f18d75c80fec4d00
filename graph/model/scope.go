// Package model holds GraphQL models that are not bound to service types.
package model

import (
	"fmt"
	"io"
	"strconv"
)

// Scope is the GraphQL Scope enum.
type Scope string

// The scopes.
const (
	ScopeUsers Scope = "USERS"
	ScopeTasks Scope = "TASKS"
	ScopeMon   Scope = "MON"
)

// IsValid reports whether e is a known scope.
func (e Scope) IsValid() bool { return e == ScopeUsers || e == ScopeTasks || e == ScopeMon }

// UnmarshalGQL reads the enum.
func (e *Scope) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("enums must be strings")
	}
	*e = Scope(s)
	if !e.IsValid() {
		return fmt.Errorf("%s is not a valid Scope", s)
	}
	return nil
}

// MarshalGQL writes the enum.
func (e Scope) MarshalGQL(w io.Writer) { fmt.Fprint(w, strconv.Quote(string(e))) }
