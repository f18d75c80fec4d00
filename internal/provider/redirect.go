package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

// Redirects says which HTTP redirects a provider's client follows. Every
// provider's client refuses redirects unless its descriptor asks for one:
// an upstream (or whoever answers for its base URL) must not be able to
// point the client at an internal service and have its body returned as
// provider data, nor collect the API key on another host.
type Redirects int

const (
	// RedirectNone follows no redirect: a 3xx answer is an upstream failure
	// (ErrUpstream). The default.
	RedirectNone Redirects = iota
	// RedirectPublicHTTPS follows up to maxRedirects redirects within the
	// configured base URL's origin (scheme, host and port: the operator
	// chose it) and to https URLs whose host is neither internal by name
	// (DefaultInternalDomains, *.localhost) nor resolves to an internal
	// address (loopback, private, link-local, … as indicator.Policy
	// judges). A followed request carries only Accept and User-Agent: no
	// key header, no Authorization, no Cookie, no Referer. RDAP needs it
	// (rdap.org redirects to the authoritative registry).
	RedirectPublicHTTPS
)

// maxRedirects bounds a chain of followed redirects (rdap.org needs one).
const maxRedirects = 5

// redirectHeaders are the only request headers a followed redirect keeps.
var redirectHeaders = map[string]bool{"Accept": true, "User-Agent": true}

// errRedirectRefused marks a redirect the policy refuses; Do turns it into
// an ErrUpstream *Error without the target (it may carry anything).
var errRedirectRefused = errors.New("redirect refused")

// resolver looks host names up; *net.Resolver satisfies it.
type resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// redirectPolicy is a client's CheckRedirect for one provider.
type redirectPolicy struct {
	mode     Redirects
	origin   string // scheme://host[:port] of the configured base URL, lower case
	resolver resolver
}

// check is the http.Client's CheckRedirect. Go sets Referer on req before
// calling it and copies every header of the first request; whatever is
// followed is stripped to redirectHeaders here.
func (p redirectPolicy) check(req *http.Request, via []*http.Request) error {
	if p.mode != RedirectPublicHTTPS {
		return http.ErrUseLastResponse
	}
	if len(via) > maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", errRedirectRefused, maxRedirects)
	}
	for k := range req.Header {
		if !redirectHeaders[k] {
			req.Header.Del(k)
		}
	}
	if origin(req.URL) == p.origin {
		return nil
	}
	if req.URL.Scheme != "https" {
		return fmt.Errorf("%w: to another host over %s", errRedirectRefused, req.URL.Scheme)
	}
	if req.URL.User != nil {
		return fmt.Errorf("%w: target carries credentials", errRedirectRefused)
	}
	return p.publicHost(req.Context(), req.URL.Hostname())
}

// publicHost refuses a host that is internal by name or by any of its
// addresses. The target is https, so a later DNS answer pointing elsewhere
// would also need a certificate valid for the name.
func (p redirectPolicy) publicHost(ctx context.Context, host string) error {
	pol := indicator.NewPolicy(nil)
	ind, err := indicator.Parse(host)
	if err != nil || (ind.Kind != indicator.Domain && !ind.Kind.IsIP()) {
		return fmt.Errorf("%w: target host is not a domain or address", errRedirectRefused)
	}
	if err := pol.Check(ind); err != nil {
		return fmt.Errorf("%w: target host is internal", errRedirectRefused)
	}
	if ind.Kind.IsIP() {
		return nil
	}
	addrs, err := p.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("%w: target host does not resolve", errRedirectRefused)
	}
	for _, a := range addrs {
		ai, err := indicator.Parse(a.Unmap().WithZone("").String())
		if err != nil || pol.Check(ai) != nil {
			return fmt.Errorf("%w: target host resolves to an internal address", errRedirectRefused)
		}
	}
	return nil
}

// origin is u's scheme://host:port in lower case, with the default port
// made explicit so that "https://a" and "https://a:443" match.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// baseOrigin is the origin of a configured base URL, or "" if it does not
// parse (then nothing counts as same-origin).
func baseOrigin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return origin(u)
}

// isRedirect reports a 3xx answer the client would have followed.
func isRedirect(res *http.Response) bool {
	switch res.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return res.Header.Get("Location") != ""
	}
	return false
}

// redirectError is the *Error of a redirect the policy refused. Its message
// says why, never where to: the target may carry anything.
func (b *Base) redirectError(res *http.Response, err error) *Error {
	e := &Error{Provider: b.desc.Name, Kind: ErrUpstream, Message: "redirect not followed"}
	if res != nil {
		res.Body.Close() // already closed by the client; harmless
		e.StatusCode = res.StatusCode
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		e.Message += strings.TrimPrefix(ue.Err.Error(), errRedirectRefused.Error())
	}
	return e
}
