package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/inspector-gadget/gadget/graph/model"
	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/clientinfo"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/provider"
)

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func statusOf(s StatusSource) *model.Status {
	st := &model.Status{Version: s.Version(), UptimeSeconds: s.Uptime().Seconds()}
	for _, p := range s.Providers() {
		ps := &model.ProviderStatus{Name: p.Name, Enabled: p.Enabled, Configured: p.Configured, Kinds: p.Kinds, ResetsAt: p.ResetsAt,
			Datasets: make([]*provider.DatasetStatus, len(p.Datasets))}
		for i := range p.Datasets {
			ps.Datasets[i] = &p.Datasets[i]
		}
		if p.Remaining != nil {
			n := int64(*p.Remaining)
			ps.Remaining = &n
		}
		st.Providers = append(st.Providers, ps)
	}
	if st.Providers == nil {
		st.Providers = []*model.ProviderStatus{}
	}
	return st
}

func connectionOf(p *accounting.AuditPage) *model.UsageLogConnection {
	c := &model.UsageLogConnection{Edges: make([]*model.UsageLogEdge, len(p.Records)), PageInfo: &model.PageInfo{HasNextPage: p.HasNext}}
	for i := range p.Records {
		r := &p.Records[i]
		c.Edges[i] = &model.UsageLogEdge{Cursor: accounting.EncodeCursor(accounting.Cursor{At: r.At, ID: r.ID}), Node: r}
	}
	if p.EndCursor != "" {
		c.PageInfo.EndCursor = &p.EndCursor
	}
	return c
}

// MaxBatch is the most values one indicators query may ask for;
// BatchConcurrency is how many of them are looked up at once.
const (
	MaxBatch         = 1000
	BatchConcurrency = 16
)

func parseIndicator(value string, kind *model.IndicatorKind) (indicator.Indicator, error) {
	var (
		ind indicator.Indicator
		err error
	)
	if kind != nil {
		ind, err = indicator.ParseAs(value, model.KindOf(*kind))
	} else {
		ind, err = indicator.Parse(value)
	}
	if err != nil {
		return ind, &errcode.Error{Code: errcode.BadIndicator, Field: "value", Message: err.Error()}
	}
	return ind, nil
}

// lookupOptions says who receives the results, for accounting, and how
// the cache is used; fresh and cachedOnly together are BAD_REQUEST.
func lookupOptions(ctx context.Context, fresh, cachedOnly bool) (lookup.Options, error) {
	if fresh && cachedOnly {
		return lookup.Options{}, errcode.Field("cachedOnly", "fresh and cachedOnly exclude each other: fresh asks upstream, cachedOnly never does")
	}
	info := clientinfo.From(ctx)
	c := lookup.Caller{IP: info.IP, UserAgent: info.UserAgent, Endpoint: info.Method + " " + info.Path}
	if p := auth.FromContext(ctx); p != nil {
		c.Username = p.Username
	}
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		c.Endpoint += " " + fc.Field.Name
	}
	return lookup.Options{Fresh: fresh, CachedOnly: cachedOnly, Caller: c}, nil
}
