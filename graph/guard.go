package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	gqlcode "github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"

	"github.com/inspector-gadget/gadget/internal/auth"
)

// DocumentGuard refuses, before the document is parsed and validated,
// what would make validation expensive:
//
//   - an anonymous document (no valid token) longer than MaxAnonymousTokens:
//     anonymous callers may only ask status and introspection, so their
//     documents are small, and nothing large is validated before the caller
//     is known;
//   - fields sharing one response name in one selection set (counted
//     across the inline fragments merged into it, and repeated spreads of
//     one fragment) beyond MaxOverlaps pairs in the whole document.
//     gqlparser's OverlappingFieldsCanBeMerged compares every such pair,
//     so a 64 KB document of one field repeated 8,000 times cost 7.9 s of
//     CPU; a real query repeats a field a handful of times (one per
//     fragment on the Indicator types).
//
// It reads the text once with gqlparser's lexer (linear, allocation-light)
// and never builds the document. Its refusals are GRAPHQL_VALIDATION_FAILED
// (HTTP 422) with the contract's code BAD_REQUEST.
type DocumentGuard struct {
	MaxAnonymousTokens int // default DefaultMaxAnonymousTokens
	MaxOverlaps        int // default DefaultMaxOverlaps
	// Parsed, when set, reports whether a document was parsed and validated
	// before (it is in the query cache, so it passed this guard then): a
	// signed-in caller's repeated document is not lexed again.
	Parsed func(ctx context.Context, query string) bool
}

// DefaultMaxAnonymousTokens bounds an anonymous document: GraphiQL 4's
// introspection query, the largest anonymous request a client sends, is
// about 330 tokens.
const DefaultMaxAnonymousTokens = 2000

// DefaultMaxOverlaps bounds the pairs of same-named fields in one
// selection set, summed over the document (a query with a field in ten
// inline fragments has 45).
const DefaultMaxOverlaps = 1000

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = DocumentGuard{}

// ExtensionName names the extension.
func (DocumentGuard) ExtensionName() string { return "DocumentGuard" }

// Validate accepts any schema.
func (DocumentGuard) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters checks the raw document.
func (g DocumentGuard) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	maxTokens := -1
	if auth.FromContext(ctx) == nil {
		maxTokens = g.MaxAnonymousTokens
		if maxTokens <= 0 {
			maxTokens = DefaultMaxAnonymousTokens
		}
	}
	if maxTokens < 0 && g.Parsed != nil && g.Parsed(ctx, p.Query) {
		return nil
	}
	maxOverlaps := g.MaxOverlaps
	if maxOverlaps <= 0 {
		maxOverlaps = DefaultMaxOverlaps
	}
	msg := scanDocument(p.Query, maxTokens, maxOverlaps)
	if msg == "" {
		return nil
	}
	err := gqlerror.Errorf("%s", msg)
	gqlcode.Set(err, gqlcode.ValidationFailed)
	return err
}

// scanDocument lexes query and returns why it is refused, or "" (lexing
// errors are left to the parser, which reports them with positions).
// maxTokens < 0 means no token bound here (the parser has its own).
func scanDocument(query string, maxTokens, maxOverlaps int) string {
	lx := lexer.New(&ast.Source{Input: query})
	var (
		sets        []map[string]int // open selection sets; inline fragments share their parent's
		parens      int              // inside arguments or variable definitions
		tokens      int
		overlaps    int
		prev        lexer.Type
		afterSpread bool // the token before was "..."
		inline      bool // the next "{" opens an inline fragment
		skipName    bool // the next name is a type condition
	)
	for {
		tok, err := lx.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			return ""
		}
		if tok.Kind == lexer.Comment {
			continue
		}
		tokens++
		if maxTokens >= 0 && tokens > maxTokens {
			return "the document is too long for a request without a valid token: sign in first"
		}
		kind := tok.Kind
		spread := afterSpread
		afterSpread = false
		switch {
		case kind == lexer.ParenL:
			parens++
		case kind == lexer.ParenR:
			parens--
		case parens > 0:
		case kind == lexer.Spread:
			afterSpread = true
		case kind == lexer.BraceL:
			if (inline || spread) && len(sets) > 0 {
				sets = append(sets, sets[len(sets)-1])
			} else {
				sets = append(sets, map[string]int{})
			}
			inline = false
		case kind == lexer.BraceR:
			if len(sets) > 0 {
				sets = sets[:len(sets)-1]
			}
		case kind == lexer.At && spread:
			inline = true
		case kind != lexer.Name:
		case spread && tok.Value == "on":
			inline, skipName = true, true
		case skipName:
			skipName = false
		case prev == lexer.At || prev == lexer.Colon || len(sets) == 0:
			// a directive, the field after an alias, or outside selections
		default:
			name := tok.Value
			if spread {
				name = "..." + name
			}
			set := sets[len(sets)-1]
			overlaps += set[name]
			set[name]++
			if overlaps > maxOverlaps {
				return "too many fields share a response name (" + name + "); give each an alias or ask for it once"
			}
		}
		prev = kind
	}
}
