package main

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// processCPU is the CPU this test process (client and in-process server)
// has used.
func processCPU(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// attack is one anonymous request of the red-team report.
type attack struct {
	name   string
	method string
	path   string
	ctype  string
	body   []byte
	header map[string]string
}

func multipartBody(t testing.TB, fileBytes int) ([]byte, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("username", "alice")
	mw.WriteField("password", "wrong-password")
	fw, err := mw.CreateFormFile("f", "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(bytes.Repeat([]byte{0}, fileBytes))
	mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

// TestAnonymousAttacks sends the red team's anonymous attacks to a real
// `gadget serve` (SQLite): each answers 4xx, costs the process well under
// 50 ms of CPU (client included), and leaves no multipart file in the temp
// folder (G7: a 400 MB upload to /portal/login stayed in /tmp for good).
// Not parallel: it points TMPDIR at a folder of its own and measures the
// process's CPU.
func TestAnonymousAttacks(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	in := start(t, map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gadget.db")})
	small, smallCT := multipartBody(t, 200<<10)
	big, bigCT := multipartBody(t, 40<<20) // over the 32 MiB net/http keeps in memory
	dup := []byte(`{"query":"{ status { ` + strings.Repeat("version ", 120_000) + `} }"}`)
	attacks := []attack{
		{name: "multipart sign-in to the portal", method: "POST", path: "/portal/login", ctype: smallCT, body: small},
		{name: "40 MB multipart sign-in to the portal", method: "POST", path: "/portal/login", ctype: bigCT, body: big},
		{name: "multipart sign-in to the API", method: "POST", path: "/api/authenticate", ctype: smallCT, body: small},
		{name: "40 MB multipart sign-in to the API", method: "POST", path: "/api/authenticate", ctype: bigCT, body: big},
		{name: "5 MB form to a REST route", method: "POST", path: "/api/indicator/ipv4", ctype: "application/x-www-form-urlencoded", body: bytes.Repeat([]byte("a"), 5<<20)},
		{name: "duplicate fields, 1 MiB limit reached", method: "POST", path: "/graphql", ctype: "application/json", body: dup},
		{name: "duplicate fields under the limit", method: "POST", path: "/graphql", ctype: "application/json", body: []byte(`{"query":"{ status { ` + strings.Repeat("version ", 8000) + `} }"}`)},
	}
	client := &http.Client{Timeout: 30 * time.Second}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			req, _ := http.NewRequest(a.method, in.base+a.path, bytes.NewReader(a.body))
			req.Header.Set("Content-Type", a.ctype)
			for k, v := range a.header {
				req.Header.Set(k, v)
			}
			start := processCPU(t)
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			used := processCPU(t) - start
			t.Logf("%d KB → %d in %v of CPU", len(a.body)>>10, res.StatusCode, used)
			if res.StatusCode < 400 || res.StatusCode >= 500 {
				t.Errorf("status %d, want 4xx", res.StatusCode)
			}
			if used > 50*time.Millisecond {
				t.Errorf("cost %v of CPU, want < 50ms", used)
			}
			left, _ := filepath.Glob(filepath.Join(tmp, "multipart-*"))
			if len(left) > 0 {
				t.Errorf("temporary files left behind: %v", left)
				for _, f := range left {
					os.Remove(f)
				}
			}
		})
	}
}
