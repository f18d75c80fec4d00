package apidocs

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func serve(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for p, h := range Routes("Inspector Gadget REST API", "/openapi.json") {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestPage: the page loads only same-origin assets, under a strict policy,
// and every asset it names is served with its type.
func TestPage(t *testing.T) {
	t.Parallel()
	srv := serve(t)
	res, body := get(t, srv.URL+"/docs")
	if res.StatusCode != 200 || res.Header.Get("Content-Security-Policy") != CSP {
		t.Fatalf("page: %d, CSP %q", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
	if strings.Contains(body, "http://") || strings.Contains(body, "https://") || strings.Contains(body, "<script>") {
		t.Errorf("page names an outside URL or has an inline script:\n%s", body)
	}
	if !strings.Contains(body, `data-spec="/openapi.json"`) {
		t.Error("page does not point at /openapi.json")
	}
	for _, c := range []struct{ name, ctype string }{
		{"swagger-ui-bundle.js", "text/javascript"}, {"swagger-ui.css", "text/css"}, {"init.js", "text/javascript"},
	} {
		if !strings.Contains(body, Prefix+c.name) {
			t.Errorf("page does not load %s", c.name)
		}
		res, b := get(t, srv.URL+Prefix+c.name)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), c.ctype) || len(b) == 0 {
			t.Errorf("%s: %d %q", c.name, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	if res, _ := get(t, srv.URL+Prefix+"VERSIONS"); res.StatusCode != 404 {
		t.Errorf("VERSIONS served: %d", res.StatusCode)
	}
}

// TestPinnedHashes: the embedded files are the ones VERSIONS pins.
func TestPinnedHashes(t *testing.T) {
	t.Parallel()
	f, err := files.Open("assets/VERSIONS")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		b, err := files.ReadFile("assets/" + fields[0])
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != fields[3] {
			t.Errorf("%s: sha256 %s, VERSIONS pins %s", fields[0], got, fields[3])
		}
		n++
	}
	if n < 2 {
		t.Errorf("VERSIONS lists %d files", n)
	}
}
