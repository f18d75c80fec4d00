package auth

import (
	"strings"

	"github.com/inspector-gadget/gadget/internal/errcode"
)

// Scope is an OAuth2 scope.
type Scope string

// The scopes.
const (
	ScopeUsers Scope = "users" // own account and usage
	ScopeTasks Scope = "tasks" // indicator lookups
	ScopeMon   Scope = "mon"   // administration and auditing
)

// AllScopes lists every scope in a stable order.
var AllScopes = []Scope{ScopeUsers, ScopeTasks, ScopeMon}

// AllowedScopes returns the scopes an account may hold: users and tasks for
// everybody, mon for admins too.
func AllowedScopes(admin bool) []Scope {
	if admin {
		return []Scope{ScopeUsers, ScopeTasks, ScopeMon}
	}
	return []Scope{ScopeUsers, ScopeTasks}
}

// ParseScopes reads a space-separated OAuth2 scope parameter. Unknown names
// are an error; duplicates are folded.
func ParseScopes(s string) ([]Scope, error) {
	var out []Scope
	seen := map[Scope]bool{}
	for _, f := range strings.Fields(s) {
		sc := Scope(strings.ToLower(f))
		if !contains(AllScopes, sc) {
			return nil, errcode.Field("scope", "unknown scope "+quote(f))
		}
		if !seen[sc] {
			seen[sc] = true
			out = append(out, sc)
		}
	}
	return out, nil
}

func quote(s string) string {
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return `"` + s + `"`
}

// GrantScopes returns requested ∩ allowed, in AllScopes order; nothing
// requested means everything allowed.
func GrantScopes(requested, allowed []Scope) []Scope {
	var out []Scope
	for _, s := range AllScopes {
		if contains(allowed, s) && (len(requested) == 0 || contains(requested, s)) {
			out = append(out, s)
		}
	}
	return out
}

// JoinScopes formats scopes as an OAuth2 scope string.
func JoinScopes(ss []Scope) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, " ")
}

func contains(ss []Scope, s Scope) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func errcodeUnauthenticated(msg string) error { return errcode.New(errcode.Unauthenticated, msg) }

func errcodeForbidden(msg string) error { return errcode.New(errcode.Forbidden, msg) }
