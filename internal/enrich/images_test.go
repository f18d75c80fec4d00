package enrich_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/cache"
	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/ratelimit"
	"github.com/inspector-gadget/gadget/internal/userbudget"
)

// shots is a provider with images: ref "shot" is one, "gone" is not found
// upstream, and refs starting with "x" are refused without a request.
type shots struct {
	fake
	images atomic.Int64 // upstream image requests
}

var shotPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01")

func (s *shots) ImageRef(ref string) error {
	if ref == "" || ref[0] == 'x' {
		return &provider.Error{Provider: s.name, Kind: provider.ErrBadInput}
	}
	return nil
}

func (s *shots) Image(_ context.Context, ref string) (*provider.Image, error) {
	s.images.Add(1)
	if ref == "gone" {
		return nil, &provider.Error{Provider: s.name, Kind: provider.ErrNotFound, Bytes: 9}
	}
	return &provider.Image{ContentType: "image/png", Body: shotPNG}, nil
}

// newImages is Images over p with the rate given, a ledger, and an image
// cache when cached.
func newImages(t *testing.T, p provider.Provider, rate provider.Rate, cached bool) (*enrich.Images, *recorder) {
	t.Helper()
	reg, err := provider.NewRegistry(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := enrich.NewFetcher(enrich.FetcherConfig{Registry: reg, Cache: cache.NewMemory[*lookup.Result](10), Limiter: ratelimit.NewBuckets(time.Now),
		Settings: map[string]enrich.Settings{p.Descriptor().Name: {Rate: rate, CacheTTL: time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	x := &enrich.Images{Fetcher: f, Ledger: rec}
	if cached {
		x.Cache = cache.NewMemory[*provider.Image](10)
	}
	return x, rec
}

// TestImagesAccounted: a proxied image is one upstream call with one
// ledger row for the user; shown again within the cache lifetime it is not
// fetched again.
func TestImagesAccounted(t *testing.T) {
	t.Parallel()
	p := &shots{fake: fake{name: "shots"}}
	x, rec := newImages(t, p, provider.Rate{Events: 100, Per: time.Minute}, true)
	ana := lookup.Caller{Username: "ana", Endpoint: "GET /portal/image/{provider}/{ref}", IP: "192.0.2.1"}
	for range 2 {
		img, err := x.Image(context.Background(), ana, "shots", "shot")
		if err != nil || string(img.Body) != string(shotPNG) {
			t.Fatalf("Image = %v, %v", img, err)
		}
	}
	if n := p.images.Load(); n != 1 {
		t.Errorf("%d upstream image requests, want 1 (the second from the cache)", n)
	}
	want := []accounting.Call{{Username: "ana", Provider: "shots", Endpoint: "GET /portal/image/{provider}/{ref}", Parameters: `{"image":"shot"}`,
		Status: "ok", Bytes: int64(len(shotPNG))}}
	if d := cmp.Diff(want, rec.calls, cmpopts.IgnoreFields(accounting.Call{}, "Latency", "At")); d != "" {
		t.Errorf("ledger rows (-want +got):\n%s", d)
	}
	if len(rec.calls) == 1 && rec.calls[0].At.IsZero() {
		t.Error("the ledger row has no time")
	}

	// an image gone upstream is a call too, answered NOT_FOUND
	if _, err := x.Image(context.Background(), ana, "shots", "gone"); errcode.CodeOf(err) != errcode.NotFound {
		t.Errorf("gone image: %v, want NOT_FOUND", err)
	}
	if len(rec.calls) != 2 || rec.calls[1].Status != "not_found" || rec.calls[1].Bytes != 9 {
		t.Errorf("ledger after the gone image: %+v", rec.calls)
	}
}

// TestImagesBudget: without a cache, an image asked again once the
// provider's rate is spent is RATE_LIMITED with a wait, and nothing is
// fetched or accounted; a refused ref spends no token; a provider without
// images is not found.
func TestImagesBudget(t *testing.T) {
	t.Parallel()
	p := &shots{fake: fake{name: "shots"}}
	x, rec := newImages(t, p, provider.Rate{Events: 1, Per: time.Hour}, false)
	ana := lookup.Caller{Username: "ana", Endpoint: "GET /portal/image/{provider}/{ref}"}
	ctx := context.Background()
	if _, err := x.Image(ctx, ana, "shots", "x-not-a-ref"); errcode.CodeOf(err) != errcode.BadRequest {
		t.Errorf("refused ref: %v, want BAD_REQUEST", err)
	}
	if _, err := x.Image(ctx, ana, "shots", "shot"); err != nil {
		t.Fatalf("first image after a refused ref: %v (the refused ref spent the only token?)", err)
	}
	_, err := x.Image(ctx, ana, "shots", "shot")
	if e := errcode.Of(err); e.Code != errcode.RateLimited || e.RetryAfter <= 0 {
		t.Errorf("second image within the rate: %v (retry after %s), want RATE_LIMITED with a wait", err, e.RetryAfter)
	}
	if n := p.images.Load(); n != 1 {
		t.Errorf("%d upstream image requests, want 1", n)
	}
	if len(rec.calls) != 1 {
		t.Errorf("%d ledger rows, want 1: %+v", len(rec.calls), rec.calls)
	}
	if _, err := x.Image(ctx, ana, "nope", "shot"); errcode.CodeOf(err) != errcode.NotFound {
		t.Errorf("unknown image source: %v, want NOT_FOUND", err)
	}
}

// budgetStore holds fixed user budgets.
type budgetStore []userbudget.Budget

func (s budgetStore) UserBudgets(context.Context) ([]userbudget.Budget, error) { return s, nil }
func (budgetStore) SetUserBudget(context.Context, userbudget.Budget, time.Time) error {
	return nil
}

// TestImagesUserBudget: a proxied image spends the user's daily budget for
// the provider like a lookup does; once it is spent the image is refused
// RATE_LIMITED without an upstream request, and other users are not limited.
func TestImagesUserBudget(t *testing.T) {
	t.Parallel()
	p := &shots{fake: fake{name: "shots"}}
	x, _ := newImages(t, p, provider.Rate{Events: 100, Per: time.Minute}, false)
	x.Budgets = userbudget.New(budgetStore{{Username: "ana", Provider: "shots", PerDay: 1}}, ratelimit.NewBuckets(time.Now), nil, nil)
	ana := lookup.Caller{Username: "ana", Endpoint: "GET /portal/image/{provider}/{ref}"}
	if _, err := x.Image(context.Background(), ana, "shots", "shot"); err != nil {
		t.Fatalf("first image within the budget: %v", err)
	}
	_, err := x.Image(context.Background(), ana, "shots", "shot")
	var ce *errcode.Error
	if !errors.As(err, &ce) || ce.Code != errcode.RateLimited || !strings.HasPrefix(ce.Message, "your budget of 1 shots calls a day is spent; retry in ") || ce.RetryAfter <= 0 {
		t.Errorf("second image: %v, want RATE_LIMITED with the user's budget and a retry", err)
	}
	if n := p.images.Load(); n != 1 {
		t.Errorf("%d upstream image requests, want 1 (the refused one makes none)", n)
	}
	if _, err := x.Image(context.Background(), lookup.Caller{Username: "bo"}, "shots", "shot"); err != nil {
		t.Errorf("another user's image: %v", err)
	}
}
