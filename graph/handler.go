package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/inspector-gadget/gadget/graph/model"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/lookup"
)

// Options tunes the GraphQL handler.
type Options struct {
	MaxDepth      int // deepest selection allowed outside introspection (default 12)
	MaxComplexity int // largest total complexity allowed (default 5000)
	// MaxIntrospectionDepth bounds __schema and __type subtrees (default
	// DefaultMaxIntrospectionDepth); see DepthLimit.
	MaxIntrospectionDepth int
	// MaxTokens bounds the lexical tokens of one document, so a huge query
	// is refused while it is parsed (default DefaultMaxTokens).
	MaxTokens int
	// MaxAnonymousBody bounds the body of a request without a valid
	// token (default DefaultMaxAnonymousBody).
	MaxAnonymousBody int64
	Logger           *slog.Logger
	Usage            Recorder // writes each operation's audit record; nil: none
	Now              func() time.Time
}

// DefaultMaxTokens is the parser's token limit. The standard introspection
// query is about 300 tokens and a 1,000-value indicators batch about 1,050;
// a thousand aliased indicator lookups with a few fields each stay under it.
const DefaultMaxTokens = 15000

// NewHandler returns the /graphql handler: GET and POST transports, the
// @hasScope directive, the error presenter, depth and complexity limits,
// and introspection (the schema is public; data is not).
func NewHandler(r *Resolver, o Options) http.Handler {
	if o.MaxDepth <= 0 {
		o.MaxDepth = 12
	}
	if o.MaxComplexity <= 0 {
		o.MaxComplexity = 5000
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = DefaultMaxTokens
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	cfg := Config{Resolvers: r}
	cfg.Directives.HasScope = hasScope
	// Lists cost their children times a page factor, so many aliased
	// large pages exceed the limit while one large page does not.
	cfg.Complexity.Query.AuditLog = func(child int, _, _, _ *string, _, _ *time.Time, first *int64, _ *string) int {
		n := int64(50)
		if first != nil {
			n = *first
		}
		return 1 + child*int(max(1, min(n, 500)/25))
	}
	cfg.Complexity.Query.Users = func(child int) int { return 1 + child*10 }
	// A batch costs its selection once per value, so aliased batches add
	// up: one 1,000-value batch asking for a verdict fits the limit, twenty
	// of them under aliases do not (they cost 125 s of CPU and 214k usage
	// rows before). Aliases of indicator each cost their selection too.
	cfg.Complexity.Query.Indicators = func(child int, values []string, _, _ *bool, _ *string, _ *model.Tlp) int {
		return 1 + child*max(1, len(values))
	}
	srv := handler.New(NewExecutableSchema(cfg))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	docs := lru.New[*ast.QueryDocument](queryCacheSize)
	srv.SetQueryCache(docs)
	srv.SetParserTokenLimit(o.MaxTokens)
	srv.Use(extension.Introspection{})
	srv.Use(DocumentGuard{Parsed: func(ctx context.Context, q string) bool { _, ok := docs.Get(ctx, q); return ok }})
	srv.Use(DepthLimit{Max: o.MaxDepth, MaxIntrospection: o.MaxIntrospectionDepth})
	srv.Use(complexityLimit{extension.FixedComplexityLimit(o.MaxComplexity), lru.New[int](queryCacheSize)})
	if o.Usage != nil {
		srv.Use(auditLog{usage: o.Usage, now: o.Now})
	}
	srv.SetErrorPresenter(presenter(o.Logger))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		return errcode.Wrap(errors.New("panic in resolver"))
	})
	return anonymousBodyLimit(o.MaxAnonymousBody, srv)
}

// queryCacheSize is how many parsed documents, and complexities of
// operations without variables, the handler keeps.
const queryCacheSize = 1000

// complexityLimit is gqlgen's complexity limit, remembering the complexity
// of an accepted operation without variables: it depends only on the
// document then, and a dashboard sends the same document again and again.
type complexityLimit struct {
	*extension.ComplexityLimit
	accepted *lru.LRU[int] // operation name and document → complexity
}

func (c complexityLimit) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if len(opCtx.Variables) > 0 {
		return c.ComplexityLimit.MutateOperationContext(ctx, opCtx)
	}
	key := opCtx.OperationName + "\x00" + opCtx.RawQuery
	if n, ok := c.accepted.Get(ctx, key); ok {
		if limit := c.Func(ctx, opCtx); n <= limit {
			opCtx.Stats.SetExtension(c.ExtensionName(), &extension.ComplexityStats{Complexity: n, ComplexityLimit: limit})
			return nil
		}
	}
	if err := c.ComplexityLimit.MutateOperationContext(ctx, opCtx); err != nil {
		return err
	}
	if s, ok := opCtx.Stats.GetExtension(c.ExtensionName()).(*extension.ComplexityStats); ok {
		c.accepted.Add(ctx, key, s.Complexity)
	}
	return nil
}

// DefaultMaxAnonymousBody bounds the body of a request without a valid
// token (status and introspection need a few KB).
const DefaultMaxAnonymousBody = 64 << 10

// anonymousBodyLimit refuses an anonymous body over n bytes before it is
// decoded: a 1 MiB anonymous document costs nothing to refuse.
func anonymousBodyLimit(n int64, next http.Handler) http.Handler {
	if n <= 0 {
		n = DefaultMaxAnonymousBody
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth.FromContext(r.Context()) == nil && r.Body != nil && r.Body != http.NoBody {
			if r.ContentLength > n {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				fmt.Fprintf(w, `{"errors":[{"message":"request body too large for a request without a valid token: at most %d bytes","extensions":{"code":"BAD_REQUEST"}}]}`+"\n", n)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
		}
		next.ServeHTTP(w, r)
	})
}

var scopeOf = map[model.Scope]auth.Scope{model.ScopeUsers: auth.ScopeUsers, model.ScopeTasks: auth.ScopeTasks, model.ScopeMon: auth.ScopeMon}

// hasScope is the @hasScope directive: authorization only (the audit log is
// the auditLog extension's).
func hasScope(ctx context.Context, obj any, next graphql.Resolver, scope model.Scope) (any, error) {
	if _, err := auth.Require(ctx, scopeOf[scope]); err != nil {
		return nil, err
	}
	return next(ctx)
}

// gqlgen's own codes, mapped to the contract's.
var gqlgenCodes = map[string]errcode.Code{
	"GRAPHQL_PARSE_FAILED":      errcode.BadRequest,
	"GRAPHQL_VALIDATION_FAILED": errcode.BadRequest,
	"COMPLEXITY_LIMIT_EXCEEDED": errcode.ComplexityLimit,
	"PERSISTED_QUERY_NOT_FOUND": errcode.BadRequest,
}

// timeFormatError is gqlgen's UnmarshalTime refusal.
const timeFormatError = "time should be RFC3339Nano formatted string"

// presenter gives every error an extensions.code from the contract. Internal
// errors are logged once, here, and shown as "internal error".
func presenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var gerr *gqlerror.Error
		if errors.As(err, &gerr) && gerr.Err == nil {
			// parse, validation and limit errors raised by gqlgen itself
			code := errcode.BadRequest
			if gerr.Rule == "MaxIntrospectionDepth" { // the list-nesting bound of introspection (see DepthLimit)
				code = errcode.ComplexityLimit
			} else if c, ok := gerr.Extensions["code"].(string); ok {
				if mapped, ok := gqlgenCodes[c]; ok {
					code = mapped
				} else if c != "" {
					code = errcode.Code(c)
				}
			}
			out := *gerr
			out.Extensions = map[string]any{"code": string(code)}
			return &out
		}
		if gerr != nil && gerr.Err != nil && !errors.As(gerr.Err, new(*errcode.Error)) {
			// a scalar that refused an argument's value (a malformed
			// Time): the client's mistake, not ours (D12: it was INTERNAL
			// and an ERROR log line, without a token)
			out := *gerr
			out.Message = "invalid value: " + gerr.Err.Error()
			if gerr.Err.Error() == timeFormatError {
				out.Message = "invalid Time: use RFC 3339, e.g. 2026-03-01T00:00:00Z"
			}
			out.Err = nil
			out.Extensions = map[string]any{"code": string(errcode.BadRequest)}
			if len(gerr.Path) > 0 {
				if name, ok := gerr.Path[len(gerr.Path)-1].(ast.PathName); ok {
					out.Extensions["field"] = string(name)
				}
			}
			return &out
		}
		ce := errcode.Of(err)
		out := graphql.DefaultErrorPresenter(ctx, err)
		out.Message = ce.Message
		out.Extensions = map[string]any{"code": string(ce.Code)}
		if ce.Field != "" {
			out.Extensions["field"] = ce.Field
		}
		if ce.RetryAfter > 0 {
			out.Extensions["retryAfterSeconds"] = lookup.RetryAfterSeconds(ce.RetryAfter)
		}
		if ce.Code == errcode.Internal {
			path := ""
			if fc := graphql.GetFieldContext(ctx); fc != nil {
				path = fc.Path().String()
			}
			log.ErrorContext(ctx, "graphql internal error", "path", path, "err", err)
		}
		return out
	}
}
