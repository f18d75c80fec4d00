package graph

import (
	"github.com/inspector-gadget/gadget/graph/model"
	"github.com/inspector-gadget/gadget/internal/accounting"
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
		st.Providers = append(st.Providers, &model.ProviderStatus{Name: p.Name, Enabled: p.Enabled, Configured: p.Configured, Kinds: p.Kinds})
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
