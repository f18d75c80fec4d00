package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Base carries what every provider implementation shares: its descriptor,
// configuration and own *http.Client. Provider files embed it.
type Base struct {
	desc   Descriptor
	cfg    Config
	client *http.Client
}

// NewBase applies defaults to cfg and builds the provider's HTTP client. The
// client follows redirects only as d.Redirects allows (none by default) and
// never sends Referer or a key header to another host; see Redirects.
func NewBase(d Descriptor, cfg Config) Base {
	if cfg.BaseURL == "" {
		cfg.BaseURL = d.BaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Timeout <= 0 {
		cfg.Timeout = d.Timeout
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	tr := cfg.Transport
	if tr == nil {
		// a pool of its own: http.DefaultTransport is emptied by every
		// httptest.Server.Close and by anything else in the process
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	rp := redirectPolicy{mode: d.Redirects, origin: baseOrigin(cfg.BaseURL), resolver: net.DefaultResolver}
	return Base{desc: d, cfg: cfg, client: &http.Client{Timeout: cfg.Timeout, Transport: tr, CheckRedirect: rp.check}}
}

// Descriptor returns the provider's descriptor.
func (b *Base) Descriptor() Descriptor { return b.desc }

// Configured reports whether the provider has the key it needs.
func (b *Base) Configured() bool { return b.desc.Key != KeyRequired || b.cfg.APIKey != "" }

// APIKey returns the configured key (possibly empty).
func (b *Base) APIKey() string { return b.cfg.APIKey }

// Setting returns the provider option name (Descriptor.Settings): the
// configured value, else its default.
func (b *Base) Setting(name string) string {
	if v, ok := b.cfg.Settings[name]; ok && v != "" {
		return v
	}
	for _, s := range b.desc.Settings {
		if s.Name == name {
			return s.Default
		}
	}
	return ""
}

// URL joins the base URL and a path that is already escaped as the provider
// documents it (e.g. "/ip_addresses/1.2.3.4").
func (b *Base) URL(path string) string { return b.cfg.BaseURL + path }

// NotConfigured is the error for a lookup without a required key. It is
// returned before any network call.
func (b *Base) NotConfigured() *Error {
	return &Error{Provider: b.desc.Name, Kind: ErrNotConfigured, Message: "no API key configured"}
}

// Fail builds an *Error for this provider.
func (b *Base) Fail(kind error, resp *Response, msg string) *Error {
	e := &Error{Provider: b.desc.Name, Kind: kind, Message: b.redact(msg)}
	if resp != nil {
		e.StatusCode = resp.Status
		e.Bytes = int64(len(resp.Body))
		if kind == ErrRateLimited {
			e.RetryAfter = RetryAfter(resp.Header, time.Now())
		}
		if kind == ErrNotFound {
			e.Raw = resp.Body
		}
	}
	return e
}

// setKeyHeader sends the configured API key in the header name; without a
// key the header is left out.
func (b *Base) setKeyHeader(req *http.Request, name string) {
	if b.cfg.APIKey != "" {
		req.Header.Set(name, b.cfg.APIKey)
	}
}

// Response is an upstream answer with its body read (up to the size cap).
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// NewRequest builds a request with the headers every provider sends: Accept
// (application/json unless accept is given) and the identifying User-Agent.
func (b *Base) NewRequest(ctx context.Context, method, rawURL string, body io.Reader, accept string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return nil, &Error{Provider: b.desc.Name, Kind: ErrBadInput, Message: "cannot build request"}
	}
	if accept == "" {
		accept = "application/json"
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", b.cfg.UserAgent)
	return req, nil
}

// Do sends req and reads the body up to the size cap. Transport failures,
// timeouts and oversized bodies become *Error values; a cancelled context is
// returned as an error matching context.Canceled. The status code is not
// judged here: the provider reads it (see Classify).
func (b *Base) Do(req *http.Request) (*Response, error) {
	ctx := req.Context()
	res, err := b.client.Do(req)
	if errors.Is(err, errRedirectRefused) {
		return nil, b.redirectError(res, err)
	}
	if err != nil {
		return nil, b.transportError(ctx, err)
	}
	defer res.Body.Close()
	if isRedirect(res) {
		// RedirectNone: the 3xx is returned unfollowed; neither its body nor
		// its Location reaches the caller.
		return nil, &Error{Provider: b.desc.Name, Kind: ErrUpstream, StatusCode: res.StatusCode,
			Message: fmt.Sprintf("redirect (%d) not followed", res.StatusCode)}
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, b.cfg.MaxBodyBytes+1))
	if err != nil {
		return nil, b.transportError(ctx, err)
	}
	resp := &Response{Status: res.StatusCode, Header: res.Header, Body: body}
	if int64(len(body)) > b.cfg.MaxBodyBytes {
		e := b.Fail(ErrUpstream, resp, fmt.Sprintf("response larger than %d bytes", b.cfg.MaxBodyBytes))
		return nil, e
	}
	return resp, nil
}

func (b *Base) transportError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("%s: %w", b.desc.Name, context.Canceled)
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &Error{Provider: b.desc.Name, Kind: ErrTimeout, Message: fmt.Sprintf("no answer within %s", b.cfg.Timeout)}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // drop the URL: it may carry a key
	}
	return &Error{Provider: b.desc.Name, Kind: ErrUpstream, Message: b.redact(err.Error())}
}

// redact removes the API key and any secret setting from s.
func (b *Base) redact(s string) string {
	secrets := []string{b.cfg.APIKey}
	for _, st := range b.desc.Settings {
		if st.Secret {
			secrets = append(secrets, b.cfg.Settings[st.Name])
		}
	}
	for _, k := range secrets {
		if k != "" {
			s = strings.ReplaceAll(s, k, "[REDACTED]")
			s = strings.ReplaceAll(s, url.QueryEscape(k), "[REDACTED]")
		}
	}
	return s
}

// clipDetail shortens upstream text put into error messages.
func clipDetail(s string) string {
	const limit = 160
	if r := []rune(s); len(r) > limit {
		return string(r[:limit]) + "…"
	}
	return s
}

// Classify maps the statuses every provider shares: 401/403 → ErrAuth,
// 429 → ErrRateLimited (with Retry-After), 404 → ErrNotFound (keeping the
// body), 400/422 → ErrBadInput, 5xx and other unexpected statuses →
// ErrUpstream. It returns nil for 2xx. Provider-specific signals (a 404 that
// means something else, in-band statuses in a 200 body) are the caller's to
// check before calling Classify.
func (b *Base) Classify(resp *Response) *Error {
	switch s := resp.Status; {
	case s >= 200 && s < 300:
		return nil
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return b.Fail(ErrAuth, resp, b.refusal())
	case s == http.StatusTooManyRequests:
		return b.Fail(ErrRateLimited, resp, "")
	case s == http.StatusNotFound:
		return b.Fail(ErrNotFound, resp, "")
	case s == http.StatusBadRequest || s == http.StatusUnprocessableEntity:
		return b.Fail(ErrBadInput, resp, "the provider rejected the indicator")
	default:
		return b.Fail(ErrUpstream, resp, http.StatusText(s))
	}
}

// refusal words a 401 or 403 after what was actually sent: only a provider
// that got a key can have refused it. A keyless service (rdap.org,
// InternetDB) answers 403 when it blocks the caller's address; a provider
// with an optional key may refuse anonymous callers.
func (b *Base) refusal() string {
	switch {
	case b.cfg.APIKey != "":
		return "the provider refused the API key"
	case b.desc.Key == KeyNone:
		return "the provider refused the request; it needs no API key, so it is probably blocking this server's address"
	default:
		return "the provider refused the request made without an API key; configure one (GADGET_" + strings.ToUpper(b.desc.Name) + "_API_KEY)"
	}
}

// RetryAfter reads Retry-After (seconds or an HTTP date), then the common
// X-RateLimit-Reset-After / X-Rate-Limit-Reset-After headers. Zero when absent.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil && t.After(now) {
			return t.Sub(now).Round(time.Second)
		}
	}
	for _, k := range []string{"X-Rate-Limit-Reset-After", "X-RateLimit-Reset-After"} {
		if n, err := headerInt(h, k); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
	}
	return 0
}

// OK builds the Result of a successful lookup from the upstream answer:
// the raw JSON, the typed summary, the verdict and the byte count.
func (b *Base) OK(resp *Response, summary any, verdict Assessment) *Result {
	return &Result{
		Provider:   b.desc.Name,
		Raw:        json.RawMessage(resp.Body),
		Summary:    summary,
		Verdict:    verdict,
		Bytes:      int64(len(resp.Body)),
		StatusCode: resp.Status,
	}
}

// Image is a picture a provider fetched for a result it linked to (a
// screenshot), checked to be a PNG or JPEG image.
type Image struct {
	ContentType string // image/png or image/jpeg, sniffed from the bytes
	Body        []byte
}

// Imager is a provider that fetches, through its own client (timeout, size
// cap, no redirects), an image its results refer to by ref, so that a
// browser shows it without asking the third party (GET
// /portal/image/{provider}/{ref}). Image checks ref itself: an unknown one
// is ErrBadInput, never a request.
type Imager interface {
	// ImageRef checks ref without any I/O: ErrBadInput for a ref the
	// provider does not know, so that it spends no budget.
	ImageRef(ref string) error
	Image(ctx context.Context, ref string) (*Image, error)
}

// FetchImage GETs rawURL and returns its body when it is a PNG or JPEG
// image within the response size cap; any other answer is an *Error.
func (b *Base) FetchImage(ctx context.Context, rawURL string) (*Image, error) {
	req, err := b.NewRequest(ctx, http.MethodGet, rawURL, nil, "image/png, image/jpeg")
	if err != nil {
		return nil, err
	}
	resp, err := b.Do(req)
	if err != nil {
		return nil, err
	}
	if e := b.Classify(resp); e != nil {
		return nil, e
	}
	switch ct := http.DetectContentType(resp.Body); ct {
	case "image/png", "image/jpeg":
		return &Image{ContentType: ct, Body: resp.Body}, nil
	default:
		return nil, b.Fail(ErrUpstream, resp, "the answer is "+ct+", not a PNG or JPEG image")
	}
}
