package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/clientinfo"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/soc"
	"github.com/inspector-gadget/gadget/internal/stix"
)

// exportSTIX answers the lookup form's "Download STIX 2.1": the pasted
// indicators looked up with the chosen providers (the cache answers what
// the page has just shown) as one bundle, an attachment.
func (p *Portal) exportSTIX(w http.ResponseWriter, r *http.Request) {
	inds, _, err := p.extract(r.PostFormValue("values"))
	chosen, err2 := p.selectProviders(r)
	tlp, err3 := soc.ParseTLP("tlp", r.PostFormValue("tlp"))
	switch {
	case err != nil:
	case err2 != nil:
		err = err2
	case err3 != nil:
		err = err3
	case len(inds) == 0:
		err = errcode.Field("values", "paste at least one indicator")
	case len(inds) > MaxLookup:
		err = errcode.Field("values", fmt.Sprintf("at most %d indicators per export (found %d)", MaxLookup, len(inds)))
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.cfg.Engine.Deadline()+5*time.Second)
	defer cancel()
	info := clientinfo.From(ctx)
	opts := lookup.Options{Batch: lookup.NewBatch(lookupWorkers), Caller: lookup.Caller{
		Username: auth.FromContext(ctx).Username, Endpoint: "POST /portal/lookup/stix", IP: info.IP, UserAgent: info.UserAgent}}
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
