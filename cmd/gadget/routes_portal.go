package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/clientinfo"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/lookup"
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
		imagePattern:  portal.SessionAuth(a.auth, auth.ScopeTasks, imageHandler(a.images)),
	}, nil
}

// imagePattern serves images a provider's results link to (screenshots),
// fetched by the provider's own client, so that a portal page shows them
// without the analyst's browser asking the third party.
const imagePattern = "GET /portal/image/{provider}/{ref}"

// imageService fetches the images provider results link to, accounted and
// budgeted as upstream calls (enrich.Images).
type imageService interface {
	Image(ctx context.Context, c lookup.Caller, provider, ref string) (*provider.Image, error)
}

// imageHandler answers imagePattern through images, for the session's
// user: the image with its sniffed type, 400 for a ref the provider
// refuses, 404 for a provider without images or an image gone upstream,
// 429 with Retry-After when the provider's or the user's budget is spent,
// 502 for any other upstream failure. Nothing is cached by the browser
// beyond the session's hour.
func imageHandler(images imageService) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := clientinfo.From(r.Context())
		c := lookup.Caller{Username: auth.FromContext(r.Context()).Username, Endpoint: imagePattern, IP: info.IP, UserAgent: info.UserAgent}
		img, err := images.Image(r.Context(), c, r.PathValue("provider"), r.PathValue("ref"))
		if err != nil {
			switch e := errcode.Of(err); e.Code {
			case errcode.BadRequest:
				http.Error(w, "bad image reference", http.StatusBadRequest)
			case errcode.NotFound:
				http.Error(w, e.Message, http.StatusNotFound)
			case errcode.RateLimited:
				w.Header().Set("Retry-After", strconv.FormatInt(lookup.RetryAfterSeconds(e.RetryAfter), 10))
				http.Error(w, "the image source's budget is spent; try again later", http.StatusTooManyRequests)
			default:
				http.Error(w, "the image source failed", http.StatusBadGateway)
			}
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
