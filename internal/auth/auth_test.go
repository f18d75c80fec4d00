package auth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"

	"github.com/inspector-gadget/gadget/internal/errcode"
)

func TestCheckPasswordAcceptsPasslibHash(t *testing.T) {
	t.Parallel()
	// The original project's documented passlib hash of "P@ssw0rd".
	const passlib = "$2b$12$bOHQebYyCOt1gTPFpcX6s.3/7KePJ/Gj2kwRU4DNqa8ER421.D276"
	if !CheckPassword(passlib, "P@ssw0rd") {
		t.Error("passlib $2b$ hash did not verify")
	}
	if CheckPassword(passlib, "P@ssw0rd!") {
		t.Error("wrong password verified")
	}
}

func TestValidatePassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pw string
		ok       bool
	}{
		{"11 bytes", strings.Repeat("a", 11), false},
		{"12 bytes", strings.Repeat("a", 12), true},
		{"72 bytes", strings.Repeat("a", 72), true},
		{"73 bytes", strings.Repeat("a", 73), false},
		{"multi-byte counted in bytes", strings.Repeat("é", 36), true}, // 72 bytes
		{"multi-byte over", strings.Repeat("é", 37), false},            // 74 bytes
		{"invalid utf-8", "abcdefghijkl\xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidatePassword("password", tt.pw)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidatePassword = %v, want ok=%t", err, tt.ok)
			}
			if err != nil {
				if e := errcode.Of(err); e.Code != errcode.BadRequest || e.Field != "password" {
					t.Errorf("error = %+v, want BAD_REQUEST on field password", e)
				}
			}
		})
	}
}

func TestHashPasswordRoundTrip(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("password", "correct horse battery", MinBcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	if !CheckPassword(h, "correct horse battery") || CheckPassword(h, "correct horse batter") {
		t.Error("round trip failed")
	}
	if _, err := HashPassword("password", strings.Repeat("x", 80), MinBcryptCost); err == nil {
		t.Error("an 80-byte password was hashed; bcrypt would ignore bytes past 72")
	}
}

// TestHashCost: a hash is made at the configured cost, never below
// MinBcryptCost, unless a test binary asked for cheap hashes (not
// parallel, so no other test hashes meanwhile).
func TestHashCost(t *testing.T) {
	costOf := func(cost int) int {
		h, err := HashPassword("password", "correct horse battery", cost)
		if err != nil {
			t.Fatal(err)
		}
		c, err := bcrypt.Cost([]byte(h))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := costOf(4); c != MinBcryptCost {
		t.Errorf("cost 4 asked: hashed at %d, want %d", c, MinBcryptCost)
	}
	if c := costOf(MinBcryptCost + 1); c != MinBcryptCost+1 {
		t.Errorf("cost %d asked: hashed at %d", MinBcryptCost+1, c)
	}
	t.Cleanup(func() { testCost.Store(0) })
	HashCheaplyInTests()
	if c := costOf(DefaultBcryptCost); c != bcrypt.MinCost {
		t.Errorf("after HashCheaplyInTests: hashed at %d, want %d", c, bcrypt.MinCost)
	}
}

func TestParseAndGrantScopes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		requested string
		admin     bool
		want      []Scope
		wantErr   bool
	}{
		{"none requested, user", "", false, []Scope{ScopeUsers, ScopeTasks}, false},
		{"none requested, admin", "", true, []Scope{ScopeUsers, ScopeTasks, ScopeMon}, false},
		{"user asks for mon", "users tasks mon", false, []Scope{ScopeUsers, ScopeTasks}, false},
		{"user asks only mon", "mon", false, nil, false},
		{"admin asks for mon", "mon", true, []Scope{ScopeMon}, false},
		{"case and duplicates", "TASKS tasks", false, []Scope{ScopeTasks}, false},
		{"unknown scope", "users root", true, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := ParseScopes(tt.requested)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseScopes err = %v", err)
			}
			if err != nil {
				return
			}
			got := GrantScopes(req, AllowedScopes(tt.admin))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("granted (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	secret := []byte(strings.Repeat("k", 32))
	tk, err := NewTokens(secret, 30*time.Minute, clock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewTokens([]byte("short"), time.Minute, nil); err == nil {
		t.Error("a short secret was accepted")
	}
	u := &User{Username: "alice", PasswordChangedAt: now.Add(-time.Hour)}
	tok, claims, err := tk.Issue(u, []Scope{ScopeUsers})
	if err != nil {
		t.Fatal(err)
	}
	if claims.ID == "" || claims.IssuedAt == nil || claims.ExpiresAt == nil || claims.Subject != "alice" {
		t.Fatalf("claims missing fields: %+v", claims)
	}
	got, err := tk.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Scope{ScopeUsers}, got.Scopes); diff != "" || got.PwC != passwordStamp(u.PasswordChangedAt) {
		t.Errorf("parsed claims: %s pwc %d", diff, got.PwC)
	}

	// forged scopes: payload changed, signature kept
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	json.Unmarshal(payload, &m)
	m["scopes"] = []string{"users", "tasks", "mon"}
	forged, _ := json.Marshal(m)
	if _, err := tk.Parse(parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]); err == nil {
		t.Error("token with forged scopes accepted")
	}
	// alg none
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if _, err := tk.Parse(none); err == nil {
		t.Error("alg=none token accepted")
	}
	// another key
	other, _ := NewTokens([]byte(strings.Repeat("z", 32)), time.Minute, clock)
	otherTok, _, _ := other.Issue(u, []Scope{ScopeMon})
	if _, err := tk.Parse(otherTok); err == nil {
		t.Error("token signed with another key accepted")
	}
	// expired
	late, _ := NewTokens(secret, 30*time.Minute, func() time.Time { return now.Add(31 * time.Minute) })
	if _, err := late.Parse(tok); err == nil {
		t.Error("expired token accepted")
	}
}
