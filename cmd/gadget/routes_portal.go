package main

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/portal"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// portalRoutes returns the web portal (/portal/), pattern → handler.
func (a *app) portalRoutes() (map[string]http.Handler, error) {
	riverUI := ""
	if a.riverUI != nil { // mounted by adminRoutes
		riverUI = riverUIPrefix + "/"
	}
	p, err := portal.New(portal.Config{
		Auth: a.auth, Accounting: a.acct, Stats: accounting.NewStatsService(a.store, nil), Engine: a.lookups, Usage: a.writer,
		Providers: statusSource{a}.Providers, RiverUI: riverUI, Logger: a.log, Extractor: newExtractor(a.cfg), STIX: a.stixExporter(), Policy: a.policy,
	})
	if err != nil { // the embedded templates and assets are broken: a build defect
		return nil, fmt.Errorf("portal: %w", err)
	}
	return map[string]http.Handler{
		portal.Prefix: p,
		imagePattern:  portal.SessionAuth(a.auth, auth.ScopeTasks, imageHandler(a.providers)),
	}, nil
}

// imagePattern serves images a provider's results link to (screenshots),
// fetched by the provider's own client, so that a portal page shows them
// without the analyst's browser asking the third party.
const imagePattern = "GET /portal/image/{provider}/{ref}"

// imageHandler answers imagePattern from the live providers that are a
// provider.Imager: the image with its sniffed type, 400 for a ref the
// provider refuses, 404 for a provider without images or an image gone
// upstream, 502 for any other upstream failure. Nothing is cached by the
// browser beyond the session's hour.
func imageHandler(reg *provider.Registry) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := reg.Get(r.PathValue("provider"))
		im, isImager := p.(provider.Imager)
		if !ok || !isImager {
			http.Error(w, "no such image source", http.StatusNotFound)
			return
		}
		img, err := im.Image(r.Context(), r.PathValue("ref"))
		switch {
		case err == nil:
		case errors.Is(err, provider.ErrBadInput):
			http.Error(w, "bad image reference", http.StatusBadRequest)
			return
		case errors.Is(err, provider.ErrNotFound):
			http.Error(w, "image not found upstream", http.StatusNotFound)
			return
		default:
			http.Error(w, "the image source failed", http.StatusBadGateway)
			return
		}
		h := w.Header()
		h.Set("Content-Type", img.ContentType)
		h.Set("Content-Length", strconv.Itoa(len(img.Body)))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'")
		h.Set("Cache-Control", "private, max-age=3600")
		_, _ = w.Write(img.Body)
	})
}
