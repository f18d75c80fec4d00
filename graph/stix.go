package graph

import (
	"context"

	"github.com/inspector-gadget/gadget/graph/model"
	"github.com/inspector-gadget/gadget/internal/soc"
)

// stixOf is an indicator's lookup as a STIX 2.1 bundle.
func (r *Resolver) stixOf(ctx context.Context, b *model.Base, tlp *string) (any, error) {
	if b.Lookup == nil {
		return nil, nil
	}
	level := ""
	if tlp != nil {
		level = *tlp
	}
	t, err := soc.ParseTLP("tlp", level)
	if err != nil {
		return nil, err
	}
	return r.STIX.Bundle(ctx, b.Lookup.Indicator(), b.Lookup.All(ctx, nil), t), nil
}
