package rest

import (
	"errors"
	"log/slog"
	"mime"
	"net/http"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/errcode"
)

// maxFormBytes bounds the sign-in form.
const maxFormBytes = 16 << 10

// tokenResponse is the OAuth2 token answer.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// Authenticate serves POST /api/authenticate: the OAuth2 password grant with
// the original's form fields username, password and optional scope.
func Authenticate(svc *auth.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{Detail: "use POST", Code: string(errcode.BadRequest)})
			return
		}
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct != "application/x-www-form-urlencoded" && ct != "multipart/form-data" {
			writeError(w, r, log, errcode.Field("Content-Type", "send the form as application/x-www-form-urlencoded"), "invalid_request")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := parseForm(r, ct); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeError(w, r, log, errcode.Field("body", "form is too large"), "invalid_request")
				return
			}
			writeError(w, r, log, errcode.Field("body", "malformed form"), "invalid_request")
			return
		}
		for _, f := range []string{"username", "password", "scope", "grant_type"} {
			if len(r.PostForm[f]) > 1 {
				writeError(w, r, log, errcode.Field(f, f+" given more than once"), "invalid_request")
				return
			}
		}
		if gt := r.PostForm.Get("grant_type"); gt != "" && gt != "password" {
			writeError(w, r, log, errcode.Field("grant_type", "only the password grant is supported"), "unsupported_grant_type")
			return
		}
		tok, err := svc.Login(r.Context(), r.PostForm.Get("username"), r.PostForm.Get("password"), r.PostForm.Get("scope"))
		if err != nil {
			writeError(w, r, log, err, oauthCode(err))
			return
		}
		writeJSON(w, http.StatusOK, tokenResponse{AccessToken: tok.AccessToken, TokenType: "bearer", ExpiresIn: tok.ExpiresIn, Scope: auth.JoinScopes(tok.Scopes)})
	})
}

func oauthCode(err error) string {
	e := errcode.Of(err)
	switch {
	case e.Code == errcode.Unauthenticated:
		return "invalid_grant"
	case e.Field == "scope":
		return "invalid_scope"
	case e.Code == errcode.BadRequest:
		return "invalid_request"
	case e.Code == errcode.RateLimited:
		return "slow_down"
	}
	return ""
}
