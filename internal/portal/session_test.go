package portal

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCookieSecureOverTLS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tls    bool
		proto  string
		secure bool
	}{
		{"plain http", false, "", false},
		{"direct TLS", true, "", true},
		{"TLS-terminating proxy", false, "https", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("POST", "/portal/login", nil)
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tt.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			w := httptest.NewRecorder()
			setCookie(w, r, SessionCookie, "v", "/", time.Now().Add(time.Hour))
			c := w.Result().Cookies()[0]
			if c.Secure != tt.secure || !c.HttpOnly || c.MaxAge <= 0 {
				t.Errorf("cookie %+v, want Secure=%v", c, tt.secure)
			}
		})
	}
}
