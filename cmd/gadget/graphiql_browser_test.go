package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestGraphiQLInBrowser opens GraphiQL in headless Chromium, as a new user
// would: the schema loads (the introspection query GraphiQL sends is the
// one in graph/testdata), the example tabs carry their operation names, the
// user signs in, the Docs pane lists Query's fields and autocompletion
// offers indicator. Like the portal's browser test it skips only when no
// Chromium exists and CI is unset.
func TestGraphiQLInBrowser(t *testing.T) {
	bin := chromiumPath()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but no chromium binary was found (apt-get install -y chromium)")
		}
		t.Skip("no chromium binary: install Debian's chromium to run GraphiQL's browser test")
	}
	env := map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gadget.db"), "GADGET_ROOT_PASSWORD": rootPW}
	withFake(t, env)
	in := start(t, env)
	dirs := screenshotDirs(t)

	// the bodies GraphiQL posts to /graphql
	var mu sync.Mutex
	var sent []string
	listen := chromedp.WithListener(func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && strings.HasSuffix(e.Request.URL, "/graphql") {
			var b strings.Builder
			for _, p := range e.Request.PostDataEntries {
				b.Write(p.Bytes)
			}
			mu.Lock()
			sent = append(sent, b.String())
			mu.Unlock()
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx, listen)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()
	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			png, _ := chromedp.Run(ctx, chromedp.FullScreenshot(90))
			for _, d := range dirs {
				os.WriteFile(filepath.Join(d, "graphiql-failed.png"), png, 0o644)
			}
			t.Fatalf("%s: %v (screenshot: graphiql-failed.png)", step, err)
		}
	}

	run("open GraphiQL", chromedp.Navigate(in.base+"/"), chromedp.WaitVisible(chromedp.CSS(".graphiql-tab")), chromedp.WaitVisible(chromedp.ID("pg-username")))
	tabs := evalAs[[]string](t, ctx, "tab titles", `[...document.querySelectorAll(".graphiql-tab-button")].map(b => b.textContent.trim())`)
	if len(tabs) < 4 || tabs[0] != "LookUpIndicator" || slices.Contains(tabs, "<untitled>") {
		t.Errorf("tabs = %v, want named operations, LookUpIndicator first", tabs)
	}

	run("sign in",
		chromedp.SetValue(chromedp.ID("pg-username"), "root"),
		chromedp.SetValue(chromedp.ID("pg-password"), rootPW),
		chromedp.Click(chromedp.ID("pg-signin-button")),
		chromedp.WaitVisible(chromedp.ID("pg-session")),
	)

	run("docs pane",
		chromedp.Click(chromedp.CSS(`button[aria-label="Show Documentation Explorer"]`)),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-doc-explorer-root-type + a.graphiql-doc-explorer-type-name")),
		chromedp.Click(chromedp.CSS(".graphiql-doc-explorer-root-type + a.graphiql-doc-explorer-type-name")),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-doc-explorer-field-name")),
	)
	title := evalAs[string](t, ctx, "docs title", `document.querySelector(".graphiql-doc-explorer-title").textContent`)
	fields := evalAs[[]string](t, ctx, "docs fields", `[...document.querySelectorAll(".graphiql-doc-explorer-field-name")].map(a => a.textContent)`)
	if title != "Query" || !slices.Contains(fields, "indicator") || !slices.Contains(fields, "indicators") {
		t.Errorf("Docs pane: title %q, fields %v; want Query with indicator and indicators", title, fields)
	}
	run("docs screenshot", shotAs(dirs, "graphiql-docs"))

	// type into a new tab's emptied editor and wait for CodeMirror's hint list
	run("new tab", chromedp.Click(chromedp.CSS(".graphiql-tab-add")), chromedp.WaitVisible(chromedp.CSS(".graphiql-query-editor .CodeMirror")))
	evalAs[bool](t, ctx, "empty the editor", `(() => { const cm = document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror; cm.setValue(""); cm.focus(); return true })()`)
	run("autocomplete",
		chromedp.KeyEvent("{ ind"),
		chromedp.WaitVisible(chromedp.CSS(".CodeMirror-hints li")),
		shotAs(dirs, "graphiql-autocomplete"),
	)
	hints := evalAs[[]string](t, ctx, "hints", `[...document.querySelectorAll(".CodeMirror-hints li")].map(li => li.textContent)`)
	if !slices.Contains(hints, "indicator") {
		t.Errorf("autocompletion offers %v, want indicator", hints)
	}

	// the introspection GraphiQL sent is the text kept in graph/testdata
	want, err := os.ReadFile("../../graph/testdata/introspection/graphiql-4.1.2.graphql")
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	found := false
	for _, body := range sent {
		var req struct{ Query, OperationName string }
		if json.Unmarshal([]byte(body), &req) == nil && req.OperationName == "IntrospectionQuery" {
			found = true
			if req.Query != string(want) {
				t.Errorf("GraphiQL's introspection query differs from graph/testdata/introspection/graphiql-4.1.2.graphql; it sent:\n%s", req.Query)
			}
		}
	}
	if !found {
		t.Errorf("no IntrospectionQuery among the %d requests to /graphql", len(sent))
	}
}

// shotAs saves a full-page screenshot as name.png in dirs.
func shotAs(dirs []string, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return err
		}
		for _, d := range dirs {
			if err := os.WriteFile(filepath.Join(d, name+".png"), png, 0o644); err != nil {
				return err
			}
		}
		return nil
	})
}
