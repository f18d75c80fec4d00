package lookup

import (
	"context"
	"sync/atomic"
)

// DefaultCallsPerRequest is how many upstream calls one API request may
// start unless configured otherwise (GADGET_REQUEST_UPSTREAM_CALLS): a
// cold batch of about a hundred IPv4 values, while 500 aliases of one
// field can no longer start thousands of calls.
const DefaultCallsPerRequest = 2000

// CallBudget is the number of upstream calls one request may start, shared
// by every lookup, alias and batch of that request: a query cannot multiply
// its calls by repeating a field.
type CallBudget struct {
	limit int64
	used  atomic.Int64
}

type callBudgetKey struct{}

// WithCallBudget returns ctx carrying a budget of n upstream calls; n ≤ 0
// leaves ctx without one (no bound: the CLI, jobs).
func WithCallBudget(ctx context.Context, n int) context.Context {
	if n <= 0 {
		return ctx
	}
	return context.WithValue(ctx, callBudgetKey{}, &CallBudget{limit: int64(n)})
}

// TakeCall spends one call of ctx's budget. ok is false when the budget is
// spent; limit is the budget's size (0 without one).
func TakeCall(ctx context.Context) (ok bool, limit int) {
	b, found := ctx.Value(callBudgetKey{}).(*CallBudget)
	if !found {
		return true, 0
	}
	if b.used.Add(1) > b.limit {
		return false, int(b.limit)
	}
	return true, int(b.limit)
}
