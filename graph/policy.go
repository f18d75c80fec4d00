package graph

import (
	"context"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/graph/model"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/policy"
)

// policyOptions sets a lookup's TLP and playbook after checking them.
func (r *Resolver) policyOptions(opts *lookup.Options, playbook *string, tlp *model.Tlp) error {
	if r.Policy == nil {
		return nil
	}
	var t, p string
	if tlp != nil {
		t = string(*tlp)
	}
	if playbook != nil {
		p = *playbook
	}
	level, name, err := r.Policy.Options(t, p)
	if err != nil {
		return err
	}
	opts.TLP, opts.Playbook = level, name
	return nil
}

func (r *Resolver) policyService() (*policy.Service, error) {
	if r.Policy == nil {
		return nil, errcode.New(errcode.NotConfigured, "lists, playbooks and sightings are not configured")
	}
	return r.Policy, nil
}

func listOf(l policy.List) *model.List {
	return &model.List{Name: l.Name, Effect: model.ListEffect(l.Effect), Description: l.Description, Owner: l.Owner,
		CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt, Size: int64(l.Entries)}
}

func entryOf(e *policy.Entry) *model.ListEntry {
	out := &model.ListEntry{Value: e.Value, Type: string(e.Type), Reason: e.Reason, Owner: e.Owner, CreatedAt: e.CreatedAt}
	if !e.ExpiresAt.IsZero() {
		t := e.ExpiresAt
		out.ExpiresAt = &t
	}
	return out
}

func (r *Resolver) playbookOf(p *policy.Playbook) *model.Playbook {
	tlp := p.DefaultTLP
	if tlp == 0 {
		tlp = r.Policy.DefaultTLP()
	}
	return &model.Playbook{Name: p.Name, Description: p.Description, Providers: append([]string{}, p.Members...),
		ResolvedProviders: append([]string{}, r.Policy.Members(p)...), DefaultTlp: model.Tlp(tlp.String()),
		MinCoverage: int64(p.MinCoverage), BuiltIn: p.BuiltIn, Owner: p.Owner, UpdatedAt: p.UpdatedAt}
}

func noteOf(a *policy.Annotation) *model.SightingNote {
	if a == nil {
		return nil
	}
	out := &model.SightingNote{Note: a.Note, Username: a.Username, At: a.At}
	if a.Verdict != "" {
		v := model.ManualVerdict(a.Verdict)
		out.Verdict = &v
	}
	return out
}

func sightingOf(s policy.Sighting) *model.Sighting {
	out := &model.Sighting{ID: s.ID, At: s.At, Username: s.Username, Verdict: verdictLevel(s.Verdict), Source: s.Source, Note: noteOf(s.Note)}
	if s.TLP != "" {
		t := model.Tlp(s.TLP)
		out.Tlp = &t
	}
	return out
}

func verdictLevel(s string) model.VerdictLevel {
	if v := model.VerdictLevel(s); v.IsValid() {
		return v
	}
	return model.VerdictLevelUnknown
}

// sightingsOf is the Sightings of an indicator's value.
func (r *Resolver) sightingsOf(ctx context.Context, b *model.Base) (*model.Sightings, error) {
	if b.Lookup == nil {
		return nil, nil
	}
	svc, err := r.policyService()
	if err != nil {
		return nil, err
	}
	ind := b.Lookup.Indicator()
	sum, err := svc.Sightings(ctx, ind)
	if err != nil {
		return nil, err
	}
	out := &model.Sightings{Count: sum.Count, DistinctUsers: sum.DistinctUsers, Summary: sum.Card(time.Now()), Manual: noteOf(sum.Manual), Of: ind}
	if sum.Count > 0 {
		first, last := sum.FirstSeen, sum.LastSeen
		out.FirstSeen, out.LastSeen = &first, &last
		v := verdictLevel(sum.LastVerdict)
		out.LastVerdict = &v
	}
	return out, nil
}

// recentSightings are the caller's own sightings, or everyone's with MON.
func (r *Resolver) recentSightings(ctx context.Context, s *model.Sightings, first *int64) ([]*model.Sighting, error) {
	svc, err := r.policyService()
	if err != nil {
		return nil, err
	}
	n := int64(10)
	if first != nil {
		n = *first
	}
	if n < 1 || n > 100 {
		return nil, errcode.Field("first", "between 1 and 100")
	}
	p := auth.FromContext(ctx)
	var user string
	if p != nil {
		user = p.Username
	}
	got, err := svc.Recent(ctx, s.Of, user, p.Has(auth.ScopeMon), int(n))
	if err != nil {
		return nil, err
	}
	out := make([]*model.Sighting, len(got))
	for i, sg := range got {
		out[i] = sightingOf(sg)
	}
	return out, nil
}

func entryInputs(in []*model.ListEntryInput) []policy.EntryInput {
	out := make([]policy.EntryInput, len(in))
	for i, e := range in {
		out[i] = policy.EntryInput{Value: e.Value}
		if e.Reason != nil {
			out[i].Reason = strings.TrimSpace(*e.Reason)
		}
		if e.ExpiresAt != nil {
			out[i].ExpiresAt = *e.ExpiresAt
		}
	}
	return out
}

func username(ctx context.Context) string {
	if p := auth.FromContext(ctx); p != nil {
		return p.Username
	}
	return ""
}
