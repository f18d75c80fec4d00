package graph

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/clientinfo"
)

// Recorder takes the audit record of each operation (the accounting
// writer).
type Recorder interface {
	Record(ctx context.Context, r accounting.Record)
}

// auditLog is the gqlgen extension that writes one audit record per
// operation of a signed-in caller: its root fields, their arguments
// (redacted), the outcome, and how each provider a lookup asked answered.
type auditLog struct {
	usage Recorder
	now   func() time.Time
}

var (
	_ graphql.HandlerExtension     = auditLog{}
	_ graphql.OperationInterceptor = auditLog{}
)

func (auditLog) ExtensionName() string                          { return "AuditLog" }
func (auditLog) Validate(schema graphql.ExecutableSchema) error { return nil }

// InterceptOperation runs the operation with a request accounting in its
// context and records it once its (first) response is ready.
func (a auditLog) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	p := auth.FromContext(ctx)
	oc := graphql.GetOperationContext(ctx)
	if p == nil || oc == nil || oc.Operation == nil {
		return next(ctx)
	}
	names, params := rootFields(oc.Operation.SelectionSet, oc.Variables)
	if len(names) == 0 { // introspection only
		return next(ctx)
	}
	ctx, req := accounting.NewRequest(ctx)
	start := a.now()
	handle := next(ctx)
	done := false
	return func(ctx context.Context) *graphql.Response {
		resp := handle(ctx)
		if resp == nil || done {
			return resp
		}
		done = true
		api := strings.Join(names, ",")
		info := clientinfo.From(ctx)
		rec := accounting.Record{Username: p.Username, API: api, Endpoint: info.Method + " " + info.Path + " " + api,
			Parameters: accounting.Redact(params), UserAgent: info.UserAgent, IP: info.IP, Status: "ok",
			Latency: a.now().Sub(start), At: start}
		if len(resp.Errors) > 0 {
			rec.Status = "error"
			if code, ok := resp.Errors[0].Extensions["code"].(string); ok {
				rec.Status = code
			}
		}
		req.Fill(&rec)
		if len(rec.Answers) == 0 {
			rec.DataSize = int64(len(resp.Data))
		}
		a.usage.Record(ctx, rec)
		return resp
	}
}

// rootFields are the names of the operation's root fields (sorted, without
// introspection) and their arguments: one field's own, or by field name.
func rootFields(set ast.SelectionSet, vars map[string]any) ([]string, map[string]any) {
	args := map[string]map[string]any{}
	for _, s := range set {
		f, ok := s.(*ast.Field)
		if !ok || strings.HasPrefix(f.Name, "__") {
			continue
		}
		if _, seen := args[f.Name]; !seen {
			args[f.Name] = f.ArgumentMap(vars)
		}
	}
	names := make([]string, 0, len(args))
	for n := range args {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 1 {
		return names, args[names[0]]
	}
	out := make(map[string]any, len(args))
	for n, a := range args {
		out[n] = a
	}
	return names, out
}
