package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds a Chromium or Chrome binary; "" when there is none.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// screenshotDirs are where page screenshots go: artifacts/screenshots
// always (gitignored), and docs/screenshots (the README's) when
// GADGET_UPDATE_SCREENSHOTS is set.
func screenshotDirs(t *testing.T) []string {
	dirs := []string{filepath.Join("..", "..", "artifacts", "screenshots")}
	if os.Getenv("GADGET_UPDATE_SCREENSHOTS") != "" {
		dirs = append(dirs, filepath.Join("..", "..", "docs", "screenshots"))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dirs
}

// TestPortalInBrowser drives the portal in headless Chromium: sign in, look
// up indicators against the fake intel server and see the verdict badges,
// create a user, and check the overview's chart drew data, saving a
// screenshot of each page. It skips only when no Chromium exists and CI is
// unset; in CI it fails instead.
func TestPortalInBrowser(t *testing.T) {
	bin := chromiumPath()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but no chromium binary was found (apt-get install -y chromium)")
		}
		t.Skip("no chromium binary: install Debian's chromium to run the portal's browser test")
	}
	env := map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gadget.db"),
		"GADGET_ROOT_PASSWORD": rootPW, "GADGET_LOOKUP_DEADLINE": "5s"}
	withFake(t, env)
	in := start(t, env)
	dirs := screenshotDirs(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	shot := func(name string) chromedp.Action[chromedp.Void] {
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
	// viewShot saves what the viewport shows (a full-page shot of a long
	// result is too tall to look at)
	viewShot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.CaptureScreenshot()(ctx, tg)
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
	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}

	run("sign in",
		chromedp.Navigate(in.base+"/portal/login"),
		chromedp.WaitVisible(chromedp.ID("username")),
		shot("login"),
		chromedp.SetValue(chromedp.ID("username"), "root"),
		chromedp.SetValue(chromedp.ID("password"), rootPW),
		chromedp.Click(chromedp.CSS(`form.login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("lookup-form")),
	)

	values := "Seen today: 203.0.113.7 and hxxp://evil[.]example/payload\n192.0.2.44\nnot-an-indicator!\n"
	run("lookup",
		chromedp.SetValue(chromedp.ID("values"), values),
		chromedp.Click(chromedp.ID("lookup-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#lookup-form[data-done="true"]`)),
	)
	levels := evalAs[[]string](t, ctx, "read verdicts", `[...document.querySelectorAll("#lookup-results article.card")].map(c => c.dataset.value + "=" + c.querySelector(".badge").dataset.level)`)
	want := map[string]string{"203.0.113.7": "MALICIOUS", "192.0.2.44": "BENIGN"} // not found by the reputation providers; context providers answer
	got := map[string]string{}
	for _, l := range levels {
		k, v, _ := strings.Cut(l, "=")
		got[k] = v
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("verdict of %s = %q, want %q (all: %v)", k, got[k], v, levels)
		}
	}
	if len(levels) != 4 || got["http://evil.example/payload"] != "MALICIOUS" || got["evil.example"] == "" {
		t.Errorf("cards = %v, want four (the URL's host too) with the defanged URL malicious", levels)
	}
	invalid := evalAs[string](t, ctx, "invalid lines", `document.getElementById("lookup-invalid").textContent`)
	if !strings.Contains(invalid, "not-an-indicator!") {
		t.Errorf("the invalid line is not reported: %q", invalid)
	}
	// the malicious address's card: coverage beside the badge, the context
	// line, the sightings line, provider rows without stutter and with links
	card := evalAs[map[string]any](t, ctx, "read a card", `(() => {
		const c = document.querySelector('#lookup-results article.card[data-value="203.0.113.7"]');
		const rows = [...c.querySelectorAll(".prov")];
		return {
			coverage: c.querySelector(".coverage").textContent,
			context: c.querySelector(".context").textContent,
			sightings: c.querySelector(".sightings").textContent,
			rows: rows.length,
			stutter: rows.filter(r => { const x = r.querySelector(".prov-reason"); return x && x.textContent.toLowerCase().startsWith(r.dataset.provider + ":"); }).length,
			links: c.querySelectorAll("a.prov-link[href^='https://']").length,
			raw: c.querySelectorAll("details.raw pre").length,
			actions: !c.querySelector(".card-actions").hidden && !!c.querySelector(".card-stix") && !!c.querySelector("form.annotate"),
		};
	})()`)
	if cov, _ := card["coverage"].(string); !regexp.MustCompile(`^\d+ of \d+ answered`).MatchString(cov) {
		t.Errorf("coverage beside the badge = %q", cov)
	}
	if cx, _ := card["context"].(string); !strings.Contains(cx, "AS") || !strings.Contains(cx, "first seen") {
		t.Errorf("context line = %q", cx)
	}
	if card["sightings"] != "never seen before" || card["rows"].(float64) < 5 || card["stutter"].(float64) != 0 ||
		card["links"].(float64) == 0 || card["raw"].(float64) == 0 || card["actions"] != true {
		t.Errorf("card = %v", card)
	}
	run("expand a provider", chromedp.Click(chromedp.CSS(`#lookup-results article.card:first-child details.raw summary`)),
		chromedp.ScrollIntoView(chromedp.CSS(`#lookup-status`)), viewShot("lookup"))

	// a manual verdict on the analyst's own sighting of the value
	run("mark a false positive",
		chromedp.SetValue(chromedp.CSS(`article.card[data-value="192.0.2.44"] form.annotate select`), "FALSE_POSITIVE"),
		chromedp.SetValue(chromedp.CSS(`article.card[data-value="192.0.2.44"] form.annotate input[name="note"]`), "our partner's VPN"),
		chromedp.Click(chromedp.CSS(`article.card[data-value="192.0.2.44"] form.annotate button`)),
		chromedp.WaitVisible(chromedp.CSS(`article.card[data-value="192.0.2.44"] form.annotate[data-saved="true"]`)),
	)
	if line := evalAs[string](t, ctx, "sightings after marking", `document.querySelector('article.card[data-value="192.0.2.44"] .sightings').textContent`); !strings.Contains(line, "marked false positive by root") {
		t.Errorf("sightings line after marking = %q", line)
	}

	// no sideways scroll, wide or narrow, with long URLs, hashes, an
	// internal value and every raw JSON toggle open
	long := "hxxps://login-microsoftonline-secure-account-verification.evil[.]example/" + strings.Repeat("a1b2c3d4e5", 24) + "/index.php?session=" + strings.Repeat("Zx9", 40) + "\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n" +
		"this-is-a-very-long-subdomain-label-for-testing-wrapping.and-another-quite-long-label.evil.example\n" +
		"203.0.113.7 10.20.30.40\n"
	for _, width := range []int64{1440, 390} {
		name := fmt.Sprintf("lookup-%d", width)
		run(name,
			chromedp.EmulateViewport(width, 900),
			chromedp.Navigate(in.base+"/portal/lookup"),
			chromedp.WaitVisible(chromedp.ID("lookup-form")),
			chromedp.SetValue(chromedp.ID("values"), long),
			chromedp.Click(chromedp.ID("lookup-submit")),
			chromedp.WaitVisible(chromedp.CSS(`#lookup-form[data-done="true"]`)),
		)
		cards := evalAs[int](t, ctx, "count cards", `document.querySelectorAll("#lookup-results article.card").length`)
		internal := evalAs[string](t, ctx, "internal card", `[...document.querySelectorAll("article.card.internal")].map(c => c.dataset.value + ": " + c.querySelector(".internal-note").textContent).join("|")`)
		if cards < 5 || !strings.Contains(internal, "10.20.30.40: internal — not looked up") || strings.Count(internal, "10.20.30.40") != 1 {
			t.Errorf("%d px: %d cards, internal %q", width, cards, internal)
		}
		run(name+" card", chromedp.ScrollIntoView(chromedp.CSS("#lookup-results article.card")), viewShot(name+"-card"))
		evalAs[int](t, ctx, "open raw JSON", `[...document.querySelectorAll("details")].map(d => d.open = true).length`)
		sw := evalAs[[]int](t, ctx, "scroll width", `[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]`)
		t.Logf("%d px, %d cards: scrollWidth %d, clientWidth %d", width, cards, sw[0], sw[1])
		if sw[0] > sw[1] {
			wide := evalAs[string](t, ctx, "wide elements", `[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > document.scrollingElement.clientWidth + 1).slice(0, 8).map(e => e.tagName + "." + e.className).join(" ")`)
			t.Errorf("the lookup page scrolls sideways at %d px: scrollWidth %d > clientWidth %d (wide: %s)", width, sw[0], sw[1], wide)
		}
	}
	run("restore the window", chromedp.EmulateViewport(1280, 900))

	run("create a user",
		chromedp.Navigate(in.base+"/portal/admin/users"),
		chromedp.WaitVisible(chromedp.ID("new-username")),
		chromedp.SetValue(chromedp.ID("new-username"), "carol"),
		chromedp.SetValue(chromedp.ID("new-password"), "carol-password-123"),
		chromedp.Click(chromedp.CSS(`form.inline button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
		shot("users"),
	)
	users := evalAs[string](t, ctx, "users table", `document.getElementById("users").textContent`)
	if !strings.Contains(users, "carol") {
		t.Errorf("carol is not listed after creating her")
	}

	run("overview", chromedp.Navigate(in.base+"/portal/admin/"), chromedp.WaitVisible(chromedp.CSS("figure.chart svg")), shot("overview"))
	drawn := evalAs[int](t, ctx, "chart bars", `[...document.querySelectorAll("figure.chart svg rect.bar")].filter(r => r.getBBox().height > 0 && r.getBBox().width > 0).length`)
	if drawn == 0 {
		t.Error("the overview's chart drew no bars")
	}

	for _, p := range []struct{ path, name string }{{"/portal/usage", "usage"}, {"/portal/admin/audit", "audit"}, {"/portal/admin/reports", "reports"}} {
		run(p.name, chromedp.Navigate(in.base+p.path), chromedp.WaitVisible(chromedp.CSS("main h1")), shot(p.name))
	}

	// a narrow screen: no page-wide horizontal scrolling
	run("narrow", chromedp.EmulateViewport(390, 844), chromedp.Navigate(in.base+"/portal/admin/users"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	overflow := evalAs[bool](t, ctx, "narrow overflow", `document.documentElement.scrollWidth > window.innerWidth + 1`)
	if overflow {
		wide := evalAs[string](t, ctx, "wide elements", `[...document.querySelectorAll("body *")].filter(e => !e.closest("table") && e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8).map(e => e.tagName + "." + e.className).join(" ")`)
		t.Errorf("the users page scrolls sideways at 390 px (wide: %s)", wide)
	}
	run("narrow screenshot", shot("users-narrow"))
	run("create a list, narrow",
		chromedp.Navigate(in.base+"/portal/lists"),
		chromedp.WaitVisible(chromedp.ID("create-list")),
		chromedp.SetValue(chromedp.ID("list-name"), "corp-ranges"),
		chromedp.SetValue(chromedp.ID("list-description"), "our own networks and domains"),
		chromedp.Click(chromedp.CSS(`#create-list button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("add-entries")),
		chromedp.SetValue(chromedp.ID("entry-values"), "10.0.0.0/8\ncorp.example\nhttps://intranet.corp.example/a-very-long-path/that-goes-on-and-on/and-on-and-on/login.aspx"),
		chromedp.SetValue(chromedp.ID("entry-reason"), "internal"),
		chromedp.Click(chromedp.CSS(`#add-entries button[type="submit"]`)),
		// the entries' rows, not the notice: the list's page already shows
		// one from its creation, and a shot taken while the form's answer
		// loads finds a page 0 px wide
		chromedp.WaitVisible(chromedp.CSS(`#entries tbody tr[data-value]`)),
		shot("list-narrow"),
	)
	if n := evalAs[int](t, ctx, "entries", `document.querySelectorAll("#entries tbody tr[data-value]").length`); n != 3 {
		t.Errorf("the new list shows %d entries, want 3", n)
	}
	if sw := evalAs[[]int](t, ctx, "list scroll width", `[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]`); sw[0] > sw[1] {
		t.Errorf("a list's page scrolls sideways at 390 px: %v", sw)
	}
	run("lists, narrow", chromedp.Navigate(in.base+"/portal/lists"), chromedp.WaitVisible(chromedp.ID("create-list")), shot("lists-narrow"))
	if sw := evalAs[[]int](t, ctx, "lists scroll width", `[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]`); sw[0] > sw[1] {
		t.Errorf("the lists page scrolls sideways at 390 px: %v", sw)
	}
}

// evalAs evaluates js in the page and returns its value.
func evalAs[T any](t *testing.T, ctx context.Context, step, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	return v
}
