package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/inspector-gadget/gadget/internal/errcode"
)

// DepthLimit refuses operations nested deeper than Max with
// COMPLEXITY_LIMIT. Introspection (the __schema and __type subtrees) is not
// counted against Max: it has its own bound, MaxIntrospection, because the
// standard introspection query of graphql-js and GraphiQL nests ofType nine
// levels deep (15 in all) while asking for little.
//
// Depth alone does not stop an introspection query from exploding
// (types { fields { type { fields … }}} multiplies the answer by the
// schema's size at every level): gqlparser's validation rule
// MaxIntrospectionDepth, a port of graphql-js's, refuses those before this
// extension runs; the error presenter gives it COMPLEXITY_LIMIT.
type DepthLimit struct {
	Max              int // deepest selection allowed outside introspection
	MaxIntrospection int // deepest __schema or __type subtree allowed; 0: DefaultMaxIntrospectionDepth
}

// DefaultMaxIntrospectionDepth bounds introspection subtrees: the standard
// query (graphql-js 16 getIntrospectionQuery with every option, and
// GraphiQL 4's) is 15 deep.
const DefaultMaxIntrospectionDepth = 25

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = DepthLimit{}

// ExtensionName names the extension.
func (DepthLimit) ExtensionName() string { return "DepthLimit" }

// Validate accepts any schema.
func (DepthLimit) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext measures the operation's depth.
func (d DepthLimit) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Doc.Operations.ForName(opCtx.OperationName)
	if op == nil {
		return nil
	}
	maxIntro := d.MaxIntrospection
	if maxIntro <= 0 {
		maxIntro = DefaultMaxIntrospectionDepth
	}
	m := measure(op.SelectionSet)
	switch {
	case m.Depth > d.Max:
		return limitError("operation is nested too deeply", "depth", m.Depth, d.Max)
	case m.Introspection > maxIntro:
		return limitError("introspection is nested too deeply", "depth", m.Introspection, maxIntro)
	}
	return nil
}

func limitError(msg, what string, got, limit int) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    msg,
		Extensions: map[string]any{"code": string(errcode.ComplexityLimit), what: got, "limit": limit},
	}
}

// depths is what measure finds in one operation.
type depths struct {
	Depth         int // deepest selection outside introspection
	Introspection int // deepest __schema or __type subtree, the introspection field included
}

// measure walks a selection set once; each fragment is measured once,
// however often it is spread, so a fragment fan-out costs nothing extra.
func measure(ss ast.SelectionSet) depths {
	w := &walker{frags: map[string]int{}, visiting: map[string]bool{}}
	top := w.walk(ss, false)
	return depths{Depth: top, Introspection: w.intro}
}

type walker struct {
	frags    map[string]int  // measured fragments, by name and context
	visiting map[string]bool // fragments on the current path (validation refuses cycles; this keeps us safe anyway)
	intro    int             // deepest introspection subtree seen
}

// walk returns the depth of ss; inIntro tells whether ss is inside an
// introspection subtree, whose depth is kept apart.
func (w *walker) walk(ss ast.SelectionSet, inIntro bool) int {
	deepest := 0
	for _, s := range ss {
		var d int
		switch s := s.(type) {
		case *ast.Field:
			if !inIntro && (s.Name == "__schema" || s.Name == "__type") {
				w.intro = max(w.intro, 1+w.walk(s.SelectionSet, true))
				continue // not counted against the ordinary depth
			}
			d = 1 + w.walk(s.SelectionSet, inIntro)
		case *ast.InlineFragment:
			d = w.walk(s.SelectionSet, inIntro)
		case *ast.FragmentSpread:
			key := s.Name
			if inIntro {
				key += "\x00introspection"
			}
			if got, ok := w.frags[key]; ok {
				d = got
				break
			}
			if s.Definition == nil || w.visiting[key] {
				continue
			}
			w.visiting[key] = true
			d = w.walk(s.Definition.SelectionSet, inIntro)
			delete(w.visiting, key)
			w.frags[key] = d
		}
		deepest = max(deepest, d)
	}
	return deepest
}
