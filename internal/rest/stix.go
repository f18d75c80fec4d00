package rest

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/soc"
	"github.com/inspector-gadget/gadget/internal/stix"
)

// wantsSTIX reports whether the request asks for STIX 2.1 (Accept:
// application/stix+json, version 2.1 or unversioned) rather than JSON.
func wantsSTIX(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && mt == "application/stix+json" && (params["version"] == "" || params["version"] == "2.1") {
			return true
		}
	}
	return false
}

// writeSTIX answers a lookup as a STIX 2.1 bundle marked tlp ("" default).
func (a *API) writeSTIX(w http.ResponseWriter, r *http.Request, ind indicator.Indicator, o lookupOpts, tlp string) error {
	level, err := soc.ParseTLP("tlp", tlp)
	if err != nil {
		return err
	}
	rs := a.cfg.Engine.Begin(ind, lookup.Options{Caller: caller(r), CachedOnly: o.cachedOnly, TLP: o.tlp, Playbook: o.playbook}).All(r.Context(), o.providers)
	w.Header().Set("Content-Type", stix.MediaType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Vary", "Accept")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(a.cfg.STIX.Bundle(r.Context(), ind, rs, level))
}
