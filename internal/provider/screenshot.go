package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	d := Descriptor{
		Name:        "screenshot",
		Title:       "Screenshot (urlscan, ScreenShotAPI)",
		Source:      "ScreenShotAPI", // the original's source name for a URL's screenshot
		Kinds:       []indicator.Kind{indicator.URL},
		Key:         KeyOptional, // an urlscan API-Key raises the search quota
		BaseURL:     "https://urlscan.io",
		Rate:        Rate{Events: 10, Per: time.Minute},
		CacheTTL:    24 * time.Hour,
		NotFoundTTL: 6 * time.Hour,
		Timeout:     20 * time.Second,
		Calls:       2,
		FreeTier:    "urlscan search works without a key (GADGET_SCREENSHOT_API_KEY takes an urlscan API-Key for a higher quota); ScreenShotAPI only with its token, per its plan",
		Settings: []Setting{
			{Name: "SCREENSHOTAPI_TOKEN", Secret: true, Doc: "ScreenShotAPI token: when urlscan has no scan of the URL, ScreenShotAPI's browser takes one (it visits the URL, this service does not); while it is set the default maximum TLP is GREEN.", MaxTLP: indicator.TLPGreen},
			{Name: "SCREENSHOTAPI_URL", Default: "https://shot.screenshotapi.net", Doc: "ScreenShotAPI's base URL."},
		},
		Summary:     ScreenshotSummary{},
		Tags:        []string{"context"},
		Description: "A screenshot of a URL without this service's browser visiting it: urlscan's stored screenshot of its latest scan of the URL (and ScreenShotAPI's when its token is configured), as a link and, in the portal, an image proxied through this service.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "urlscan's search of existing scans is passive, as for urlscan; with SCREENSHOTAPI_TOKEN set, ScreenShotAPI's browser visits the URL, so the target sees a request, and the maximum is GREEN",
		VerdictRules: []string{
			"context only: UNKNOWN with where the screenshot comes from and when it was taken",
			"no urlscan scan of the URL and no ScreenShotAPI token: not found",
		},
		Link: func(ind indicator.Indicator) string {
			return "https://urlscan.io/search/#" + url.PathEscape(`page.url:"`+urlscanQuote(ind.Value)+`"`)
		},
	}
	d.New = func(cfg Config) (Provider, error) { return &screenshot{Base: NewBase(d, cfg)}, nil }
	Register(d)
}

// screenshot finds a stored screenshot of a URL: GET
// /api/v1/search/?q=page.url:"<url>" OR task.url:"<url>"&size=1 at urlscan
// (newest scan first), else GET <SCREENSHOTAPI_URL>/screenshot?token=…&url=…&output=json.
type screenshot struct{ Base }

// ScreenshotSummary says where a URL's screenshot is.
type ScreenshotSummary struct {
	Source     string    `json:"source"`          // "urlscan" or "ScreenShotAPI"
	Screenshot string    `json:"screenshot"`      // the image at its source
	Image      string    `json:"image,omitempty"` // the same image through this service (portal session), urlscan only
	Link       string    `json:"link,omitempty"`  // urlscan's page of the scan
	ScanID     string    `json:"scanId,omitempty"`
	TakenAt    time.Time `json:"takenAt"` // the scan's time; zero when the source does not say
	PageURL    string    `json:"pageUrl,omitempty"`
}

// urlscanUUID is the form of an urlscan scan id, the only image ref Image
// accepts.
var urlscanUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

type screenshotSearch struct {
	Results []struct {
		Task struct {
			UUID string `json:"uuid"`
			Time string `json:"time"`
			URL  string `json:"url"`
		} `json:"task"`
		Page struct {
			URL string `json:"url"`
		} `json:"page"`
		Screenshot string `json:"screenshot"`
	} `json:"results"`
}

type screenshotAPIAnswer struct {
	Screenshot string `json:"screenshot"`
	URL        string `json:"url"`
}

func (p *screenshot) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	if ind.Kind != indicator.URL {
		return nil, p.Fail(ErrBadInput, nil, fmt.Sprintf("%s lookups are not served", ind.Kind))
	}
	v := urlscanQuote(ind.Value)
	q := url.Values{"q": {`page.url:"` + v + `" OR task.url:"` + v + `"`}, "size": {"1"}}
	req, err := p.NewRequest(ctx, http.MethodGet, p.URL("/api/v1/search/?"+q.Encode()), nil, "")
	if err != nil {
		return nil, err
	}
	p.setKeyHeader(req, "API-Key")
	resp, err := p.Do(req)
	if err != nil {
		return nil, err
	}
	if e := p.Classify(resp); e != nil {
		return nil, e
	}
	var body screenshotSearch
	if e := p.decode(resp, &body, "malformed JSON answer"); e != nil {
		return nil, e
	}
	if len(body.Results) > 0 && urlscanUUID.MatchString(body.Results[0].Task.UUID) {
		r := body.Results[0]
		id := r.Task.UUID
		s := &ScreenshotSummary{Source: "urlscan", Screenshot: "https://urlscan.io/screenshots/" + id + ".png",
			Image: "/portal/image/screenshot/" + id, Link: "https://urlscan.io/result/" + id + "/", ScanID: id,
			TakenAt: parseTime(r.Task.Time, time.RFC3339Nano), PageURL: r.Page.URL}
		return p.OK(resp, s, screenshotVerdict(s)), nil
	}
	token := p.Setting("SCREENSHOTAPI_TOKEN")
	if token == "" {
		return nil, p.Fail(ErrNotFound, resp, "")
	}
	return p.screenShotAPI(ctx, ind, int64(len(resp.Body)), token)
}

// screenShotAPI asks ScreenShotAPI for a screenshot; searched counts the
// bytes of the urlscan search before it.
func (p *screenshot) screenShotAPI(ctx context.Context, ind indicator.Indicator, searched int64, token string) (*Result, error) {
	q := url.Values{"token": {token}, "url": {ind.Value}, "output": {"json"}, "file_type": {"png"}, "wait_for_event": {"load"}}
	base := strings.TrimRight(p.Setting("SCREENSHOTAPI_URL"), "/")
	req, err := p.NewRequest(ctx, http.MethodGet, base+"/screenshot?"+q.Encode(), nil, "")
	if err != nil {
		return nil, err
	}
	resp, err := p.Do(req)
	if err != nil {
		return nil, err
	}
	fail := func(e *Error) (*Result, error) {
		e.Bytes += searched
		return nil, e
	}
	if e := p.Classify(resp); e != nil {
		return fail(e)
	}
	var body screenshotAPIAnswer
	if e := p.decode(resp, &body, "malformed ScreenShotAPI answer"); e != nil {
		return fail(e)
	}
	if u, err := url.Parse(body.Screenshot); err != nil || u.Scheme != "https" || u.Host == "" {
		return fail(p.Fail(ErrUpstream, resp, "ScreenShotAPI gave no https screenshot URL"))
	}
	s := &ScreenshotSummary{Source: "ScreenShotAPI", Screenshot: body.Screenshot, PageURL: body.URL}
	r := p.OK(resp, s, screenshotVerdict(s))
	r.Bytes += searched
	return r, nil
}

// ImageRef accepts an urlscan scan id (a uuid) only.
func (p *screenshot) ImageRef(ref string) error {
	if !urlscanUUID.MatchString(ref) {
		return p.Fail(ErrBadInput, nil, "not an urlscan scan id")
	}
	return nil
}

// Image fetches urlscan's screenshot of scan ref (a scan uuid).
func (p *screenshot) Image(ctx context.Context, ref string) (*Image, error) {
	if err := p.ImageRef(ref); err != nil {
		return nil, err
	}
	return p.FetchImage(ctx, p.URL("/screenshots/"+ref+".png"))
}

// screenshotVerdict: a screenshot is context.
func screenshotVerdict(s *ScreenshotSummary) Assessment {
	when := ""
	if !s.TakenAt.IsZero() {
		when = " taken " + s.TakenAt.Format(time.DateOnly)
	}
	return Assessment{Level: indicator.Unknown, Score: 0, Reason: "screenshot from " + s.Source + when + ", context only"}
}
