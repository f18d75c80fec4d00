package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// gqlWith posts a GraphQL query with the given Authorization header.
func (in *instance) gqlWith(authorization, query string, vars map[string]any) gqlAnswer {
	in.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest("POST", in.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", authorization)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var a gqlAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		in.t.Fatalf("graphql answer (HTTP %d) is not JSON: %s", res.StatusCode, raw)
	}
	return a
}

type newKeyJSON struct {
	Key    string `json:"key"`
	APIKey struct {
		ID         string   `json:"id"`
		Name       string   `json:"name"`
		Prefix     string   `json:"prefix"`
		Scopes     []string `json:"scopes"`
		LastUsedAt *string  `json:"lastUsedAt"`
	} `json:"apiKey"`
}

const createKeyQuery = `mutation($n: String!, $s: [Scope!]) { createApiKey(name: $n, scopes: $s) { key apiKey { id name prefix scopes lastUsedAt } } }`

// TestAPIKeys: a user creates a key (shown once, stored as a hash), uses it
// as Bearer, as the whole Authorization header and as HTTP Basic, within
// the scopes it was given; a key cannot mint keys; revoking it or disabling
// the account refuses it at once; on PostgreSQL + Redis a revocation on one
// instance reaches another within a second.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			env := be.env(t)
			env["GADGET_ROOT_PASSWORD"] = rootPW
			in := start(t, env)
			root := in.token("root", rootPW, "")
			if res, body := in.rest(root, "POST", "/api/admin/user", `{"username":"sam","password":"sam-password-123"}`, nil); res.StatusCode != 200 {
				t.Fatalf("create sam: %d %s", res.StatusCode, body)
			}
			sam := in.token("sam", "sam-password-123", "")

			nk := field[newKeyJSON](t, in.gql(sam, createKeyQuery, map[string]any{"n": "misp", "s": []string{"TASKS"}}), "createApiKey")
			if !strings.HasPrefix(nk.Key, "igk_") || len(nk.Key) < 40 || !strings.HasPrefix(nk.Key, nk.APIKey.Prefix) || nk.APIKey.Name != "misp" {
				t.Fatalf("new key = %+v", nk)
			}
			if len(nk.APIKey.Scopes) != 1 || nk.APIKey.Scopes[0] != "TASKS" {
				t.Fatalf("scopes = %v, want [TASKS]", nk.APIKey.Scopes)
			}
			keys := field[[]map[string]any](t, in.gql(sam, `{ apiKeys { id name prefix } }`, nil), "apiKeys")
			if len(keys) != 1 || keys[0]["id"] != nk.APIKey.ID {
				t.Fatalf("apiKeys = %v", keys)
			}
			if a := in.gql(sam, `{ apiKeys { key } }`, nil); len(a.Errors) == 0 {
				t.Fatal("apiKeys answers the key itself")
			}
			// scopes: the account may not grant what it does not hold
			mustCode(t, in.gql(sam, createKeyQuery, map[string]any{"n": "mon", "s": []string{"MON"}}), "BAD_REQUEST")
			mustCode(t, in.gql(sam, createKeyQuery, map[string]any{"n": "misp"}), "CONFLICT")
			mustCode(t, in.gql(sam, createKeyQuery, map[string]any{"n": "  "}), "BAD_REQUEST")

			extract := `{ extract(text: "see 8.8.8.8") { indicators { value } } }`
			basic := func(user, pw string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw)) }
			for name, h := range map[string]string{
				"bearer": "Bearer " + nk.Key, "bare key": nk.Key, "basic": basic("sam", nk.Key), "basic, no user": basic("", nk.Key),
			} {
				if a := in.gqlWith(h, extract, nil); len(a.Errors) > 0 {
					t.Fatalf("%s: %+v", name, a.Errors)
				}
			}
			mustCode(t, in.gqlWith(basic("root", nk.Key), extract, nil), "UNAUTHENTICATED")                 // someone else's name
			mustCode(t, in.gqlWith("Bearer igk_"+strings.Repeat("A", 43), extract, nil), "UNAUTHENTICATED") // unknown key
			mustCode(t, in.gqlWith(nk.Key, `{ me { username } }`, nil), "FORBIDDEN")                        // the key has TASKS only
			// a key cannot mint keys, even with USERS
			full := field[newKeyJSON](t, in.gql(sam, createKeyQuery, map[string]any{"n": "full"}), "createApiKey")
			if a := in.gqlWith(full.Key, `{ me { username } }`, nil); len(a.Errors) > 0 {
				t.Fatalf("full key: %+v", a.Errors)
			}
			mustCode(t, in.gqlWith(full.Key, createKeyQuery, map[string]any{"n": "more"}), "FORBIDDEN")

			if be.name == "sqlite" { // stored hashed: the key is nowhere in the database file
				db, err := os.ReadFile(strings.TrimPrefix(env["GADGET_DATABASE_URL"], "sqlite://"))
				if err != nil {
					t.Fatal(err)
				}
				wal, _ := os.ReadFile(filepath.Clean(strings.TrimPrefix(env["GADGET_DATABASE_URL"], "sqlite://") + "-wal"))
				if bytes.Contains(db, []byte(nk.Key)) || bytes.Contains(wal, []byte(nk.Key)) || bytes.Contains(wal, []byte(nk.Key[4:])) {
					t.Fatal("the API key is stored in clear")
				}
			}

			// revocation: refused at once here, and within a second on another instance
			var other *instance
			if be.name != "sqlite" {
				envB := map[string]string{}
				for k, v := range env {
					envB[k] = v
				}
				other = start(t, envB)
				if a := other.gqlWith(nk.Key, extract, nil); len(a.Errors) > 0 { // cached there
					t.Fatalf("other instance: %+v", a.Errors)
				}
			}
			if ok := field[bool](t, in.gql(sam, `mutation($id: ID!) { revokeApiKey(id: $id) }`, map[string]any{"id": nk.APIKey.ID}), "revokeApiKey"); !ok {
				t.Fatal("revokeApiKey = false")
			}
			mustCode(t, in.gqlWith(nk.Key, extract, nil), "UNAUTHENTICATED")
			mustCode(t, in.gql(sam, `mutation($id: ID!) { revokeApiKey(id: $id) }`, map[string]any{"id": nk.APIKey.ID}), "NOT_FOUND")
			mustCode(t, in.gql(root, `mutation($id: ID!) { revokeApiKey(id: $id) }`, map[string]any{"id": full.APIKey.ID}), "NOT_FOUND") // not root's key
			if other != nil {
				withinAuth(t, other, nk.Key, extract)
			}
			// a disabled account's keys are refused
			in.rest(root, "PATCH", "/api/admin/user/status", `{"username":"sam","account_active":false}`, nil)
			mustCode(t, in.gqlWith(full.Key, `{ me { username } }`, nil), "UNAUTHENTICATED")
		})
	}
}

// withinAuth waits up to a second for in to refuse key.
func withinAuth(t *testing.T, in *instance, key, query string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		a := in.gqlWith(key, query, nil)
		if len(a.codes()) > 0 && a.codes()[0] == "UNAUTHENTICATED" {
			return
		}
		sleepMs(10)
	}
	t.Fatal("a key revoked on one instance is still accepted by another after 1 s")
}

func sleepMs(n int) { time.Sleep(time.Duration(n) * time.Millisecond) }

// TestPortalAPIKeys: the portal's API keys page creates a key, shows it on
// that answer only, lists it by prefix, and revokes it.
func TestPortalAPIKeys(t *testing.T) {
	t.Parallel()
	env := backends[0].env(t)
	env["GADGET_ROOT_PASSWORD"] = rootPW
	in := start(t, env)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	page := func(res *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("%s %s: HTTP %d %.300s", res.Request.Method, res.Request.URL.Path, res.StatusCode, b)
		}
		return string(b)
	}
	csrfField := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	csrf := func(s string) string {
		t.Helper()
		m := csrfField.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("no csrf field: %.300s", s)
		}
		return m[1]
	}
	page(c.PostForm(in.base+"/portal/login", url.Values{"csrf": {csrf(page(c.Get(in.base + "/portal/login")))}, "username": {"root"}, "password": {rootPW}}))
	list := page(c.Get(in.base + "/portal/keys"))
	created := page(c.PostForm(in.base+"/portal/keys", url.Values{"csrf": {csrf(list)}, "name": {"thehive"}, "scope": {"tasks"}}))
	m := regexp.MustCompile(`id="new-key" readonly value="(igk_[A-Za-z0-9_-]+)"`).FindStringSubmatch(created)
	if m == nil {
		t.Fatalf("the new key is not on the page: %.2000s", created)
	}
	key := m[1]
	if a := in.gqlWith("Bearer "+key, `{ extract(text: "8.8.8.8") { indicators { value } } }`, nil); len(a.Errors) > 0 {
		t.Fatalf("the portal's key is refused: %+v", a.Errors)
	}
	mustCode(t, in.gqlWith("Bearer "+key, `{ users { username } }`, nil), "FORBIDDEN") // tasks only
	list = page(c.Get(in.base + "/portal/keys"))
	if strings.Contains(list, key) || !strings.Contains(list, key[:8]+"…") || !strings.Contains(list, "thehive") {
		t.Fatalf("the list shows the key or not its prefix: %.2000s", list)
	}
	id := regexp.MustCompile(`action="/portal/keys/([0-9a-f-]{36})/revoke"`).FindStringSubmatch(list)
	if id == nil {
		t.Fatal("no revoke form")
	}
	done := page(c.PostForm(in.base+"/portal/keys/"+id[1]+"/revoke", url.Values{"csrf": {csrf(list)}}))
	if !strings.Contains(done, "Revoked the key.") || strings.Contains(done, "thehive") {
		t.Fatalf("after revoking: %.2000s", done)
	}
	mustCode(t, in.gqlWith("Bearer "+key, `{ extract(text: "8.8.8.8") { indicators { value } } }`, nil), "UNAUTHENTICATED")
	// a revoke without the form's CSRF token is refused
	res, err := c.PostForm(in.base+"/portal/keys/"+id[1]+"/revoke", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("revoke without csrf: HTTP %d", res.StatusCode)
	}
}
