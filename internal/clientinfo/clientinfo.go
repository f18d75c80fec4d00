// Package clientinfo resolves who is on the other end of a request: the
// client IP (the socket's, unless the peer is a trusted proxy) and the user
// agent, carried in the request context for accounting.
package clientinfo

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Info describes the client of a request.
type Info struct {
	IP        string
	UserAgent string
	Method    string
	Path      string
}

type key struct{}

// With returns ctx carrying info.
func With(ctx context.Context, info Info) context.Context { return context.WithValue(ctx, key{}, info) }

// From returns the request's client info (zero when none was attached).
func From(ctx context.Context) Info {
	i, _ := ctx.Value(key{}).(Info)
	return i
}

// Resolver finds the client IP of a request.
type Resolver struct {
	trusted []netip.Prefix
}

// ParseTrusted reads a comma- or space-separated list of CIDRs or addresses.
func ParseTrusted(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is neither a CIDR nor an address", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// NewResolver returns a resolver that believes X-Forwarded-For only from
// peers inside trusted.
func NewResolver(trusted []netip.Prefix) *Resolver { return &Resolver{trusted: trusted} }

func (r *Resolver) isTrusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the socket peer's IP, or, when the peer is a trusted
// proxy, the right-most X-Forwarded-For entry that is not itself trusted.
func (r *Resolver) ClientIP(req *http.Request) string {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		host = req.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !r.isTrusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(req.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !r.isTrusted(a) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

// Middleware attaches Info to every request's context.
func (r *Resolver) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ua := req.UserAgent()
		if len(ua) > 512 {
			ua = ua[:512] // accounting cuts it again on a rune boundary (accounting.Clean)
		}
		info := Info{IP: r.ClientIP(req), UserAgent: ua, Method: req.Method, Path: req.URL.Path}
		next.ServeHTTP(w, req.WithContext(With(req.Context(), info)))
	})
}
