package enrich

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/userbudget"
)

// ImageCache keeps fetched images in this process (a cache.Memory).
type ImageCache = ValueCache[*provider.Image]

// Images serves the images provider results link to (a provider.Imager's,
// such as the screenshot provider's urlscan screenshots) through this
// service, as upstream calls like any other: each fetch spends the
// provider's rate and budget and the user's budget, and writes one ledger
// row attributed to the user; a fetched image is kept for the provider's
// cache lifetime, so showing it again makes no call.
type Images struct {
	Fetcher *Fetcher            // required
	Ledger  Ledger              // optional
	Budgets *userbudget.Budgets // optional: per-user daily budgets
	Cache   ImageCache          // optional
	// MaxWait is the longest wait for a token of the provider's rate; 0
	// answers RATE_LIMITED at once (a page is waiting for the image).
	MaxWait time.Duration
}

// Image returns image ref of provider name for caller c, or an
// *errcode.Error: NotFound (no such image source, or gone upstream),
// BadRequest (a ref the provider refuses; no budget spent), RateLimited
// with RetryAfter, Timeout or UpstreamError.
func (x *Images) Image(ctx context.Context, c lookup.Caller, name, ref string) (*provider.Image, error) {
	f := x.Fetcher
	p, ok := f.cfg.Registry.Get(name)
	im, isImager := p.(provider.Imager)
	if !ok || !isImager {
		return nil, errcode.New(errcode.NotFound, "no such image source")
	}
	if err := im.ImageRef(ref); err != nil {
		return nil, &errcode.Error{Code: errcode.BadRequest, Field: "ref", Message: "bad image reference"}
	}
	key := "image:" + name + ":" + ref
	if x.Cache != nil {
		if img, _, ok, err := x.Cache.Get(ctx, key); err == nil && ok {
			return img, nil
		}
	}
	if r := userBudget(ctx, x.Budgets, f.cfg.Metrics, c.Username, name); r != nil {
		return nil, r.Err
	}
	var img *provider.Image
	set := f.settings(p.Descriptor())
	out := f.budgeted(ctx, name, set, FetchOptions{MaxWait: x.MaxWait}, func() *lookup.Result {
		return f.upstream(ctx, name, set, func(ctx context.Context) (*provider.Result, error) {
			i, err := im.Image(ctx, ref)
			if err != nil {
				return nil, err
			}
			img = i
			return &provider.Result{Provider: name, Bytes: int64(len(i.Body)), StatusCode: http.StatusOK}, nil
		})
	})
	if x.Ledger != nil && c.Username != "" {
		params, _ := json.Marshal(map[string]string{"image": ref})
		for _, r := range out.Calls {
			x.Ledger.Call(ctx, callRow(c, string(params), r))
		}
	}
	r := out.Result
	switch {
	case r.Status == lookup.StatusOK:
		if ttl := set.CacheTTL; x.Cache != nil && ttl > 0 {
			if err := x.Cache.Set(ctx, key, img, ttl); err != nil {
				f.cfg.Logger.WarnContext(ctx, "image cache write failed", "provider", name, "err", err)
			}
		}
		return img, nil
	case r.Status == lookup.StatusNotFound:
		return nil, errcode.New(errcode.NotFound, "image not found upstream")
	case r.Err != nil:
		return nil, r.Err
	}
	return nil, errcode.New(errcode.UpstreamError, "the image source failed")
}
