package portal

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/clientinfo"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/soc"
	"github.com/inspector-gadget/gadget/internal/stix"
)

// exportSTIX answers the lookup page's "Download STIX 2.1" (the whole
// result, or one card's value): the indicators looked up with the form's
// playbook, TLP and providers (the cache answers what the page has just
// shown) as one bundle marked with the lookup's TLP, an attachment.
func (p *Portal) exportSTIX(w http.ResponseWriter, r *http.Request) {
	f, err := p.readLookupForm(r, "export")
	if err == nil && len(f.inds) == 0 {
		err = errcode.Field("values", "paste at least one indicator")
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	tlp, err := soc.ParseTLP("tlp", f.opts.TLP.String()) // no TLP (no policy service): the export's default
	if err != nil {
		p.fail(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.cfg.Engine.Deadline()+5*time.Second)
	defer cancel()
	info := clientinfo.From(ctx)
	opts := f.opts
	opts.Batch = lookup.NewBatch(lookupWorkers)
	opts.Caller = lookup.Caller{Username: auth.FromContext(ctx).Username, Endpoint: "POST /portal/lookup/stix", IP: info.IP, UserAgent: info.UserAgent}
	inds, chosen := f.inds, f.chosen
	var objs []stix.Object
	seen := map[string]bool{}
	for _, ind := range inds {
		rs := p.cfg.Engine.Begin(ind, opts).All(ctx, chosen)
		for _, o := range p.cfg.STIX.Objects(ctx, ind, rs, tlp) {
			if id, _ := o["id"].(string); !seen[id] {
				seen[id] = true
				objs = append(objs, o)
			}
		}
	}
	soc.SetParam(ctx, "count", len(inds))
	w.Header().Set("Content-Type", stix.MediaType)
	w.Header().Set("Content-Disposition", `attachment; filename="lookup.stix.json"`)
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(stix.Bundle(objs))
}
