package playground

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"strings"
)

// page is the rendered HTML page and the headers that go with it.
type page struct {
	body []byte
	csp  string
	etag string
}

// pageConfig is handed to the bootstrap script as a JSON data block, so the
// script itself stays constant and one CSP hash covers it.
type pageConfig struct {
	Endpoint      string `json:"endpoint"`
	TokenEndpoint string `json:"tokenEndpoint"`
	Tabs          []tab  `json:"tabs"`
}

// tab is one GraphiQL default tab (GraphiQL's TabDefinition).
type tab struct {
	Query string `json:"query"`
}

type assetRef struct {
	URL, SRI string
}

type pageData struct {
	Title         string
	TokenEndpoint string
	Styles        []assetRef
	Scripts       []assetRef
	Config        pageConfig
	Bootstrap     template.JS
}

// bootstrapHash is the CSP hash-source of the one inline script.
var bootstrapHash = func() string {
	sum := sha256.Sum256([]byte(bootstrapJS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// contentSecurityPolicy is the page's policy. GraphiQL's UMD build needs no
// eval, so script-src is 'self' (the vendored files, each also pinned by its
// integrity attribute) plus the bootstrap's hash. GraphiQL and its
// dependencies inject <style> elements at run time, hence 'unsafe-inline'
// for styles; its CSS embeds its fonts and a few images as data: URLs.
// connect-src 'self' keeps the endpoints on this origin.
var contentSecurityPolicy = strings.Join([]string{
	"default-src 'none'",
	"script-src 'self' " + bootstrapHash,
	"style-src 'self' 'unsafe-inline'",
	"img-src 'self' data:",
	"font-src 'self' data:",
	"connect-src 'self'",
	"form-action 'self'",
	"base-uri 'none'",
	"frame-ancestors 'none'",
}, "; ")

// render builds the page for opts.
func render(opts Options, assets map[string]*asset) (*page, error) {
	ref := func(name string) assetRef {
		a := assets[name]
		return assetRef{URL: a.path(opts.AssetPrefix), SRI: a.sri}
	}
	d := pageData{
		Title:         opts.Title,
		TokenEndpoint: opts.TokenEndpoint,
		Styles:        []assetRef{ref(graphiqlCSS), ref(explorerCSS)},
		Scripts:       []assetRef{ref(reactJS), ref(reactDOMJS), ref(graphiqlJS), ref(explorerJS)},
		Config: pageConfig{
			Endpoint:      opts.Endpoint,
			TokenEndpoint: opts.TokenEndpoint,
			Tabs:          make([]tab, 0, len(opts.Examples)),
		},
		// A constant we wrote, inserted verbatim so its bytes match the
		// CSP hash (html/template would strip comments from literal JS).
		Bootstrap: template.JS(bootstrapJS),
	}
	for _, e := range opts.Examples {
		d.Config.Tabs = append(d.Config.Tabs, tab{Query: exampleQuery(e)})
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("playground: render page: %w", err)
	}
	sum := sha256.Sum256(b.Bytes())
	return &page{
		body: b.Bytes(),
		csp:  contentSecurityPolicy,
		etag: `"` + hex.EncodeToString(sum[:16]) + `"`,
	}, nil
}

// exampleQuery prefixes the query with its name as a GraphQL comment, so the
// editor says what the example is (GraphiQL titles tabs by operation name).
func exampleQuery(e Example) string {
	name := strings.Join(strings.Fields(e.Name), " ")
	if name == "" {
		return e.Query
	}
	return "# " + name + "\n" + e.Query
}

// pageTemplate is the page. html/template escapes every value for its
// context: the config block is JSON with <, > and & escaped, so no example
// can end the <script> element early.
var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
{{- range .Styles}}
<link rel="stylesheet" href="{{.URL}}" integrity="{{.SRI}}">
{{- end}}
<style>
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; font: 14px/1.4 system-ui, sans-serif; }
.pg-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1rem; padding: 0.5rem 1rem; border-bottom: 1px solid #d0d4da; background: #f6f7f9; color: #1b1f24; }
.pg-bar h1 { font-size: 1rem; margin: 0; }
.pg-bar form { display: flex; flex-wrap: wrap; align-items: center; gap: 0.25rem 0.5rem; margin: 0; }
.pg-bar input { font: inherit; padding: 0.2rem 0.4rem; border: 1px solid #8a929c; border-radius: 4px; background: #fff; color: inherit; }
.pg-bar button, .pg-bar summary { font: inherit; cursor: pointer; }
.pg-bar button { padding: 0.2rem 0.7rem; border: 1px solid #5a6470; border-radius: 4px; background: #fff; color: inherit; }
.pg-bar button[disabled] { cursor: progress; opacity: 0.6; }
.pg-bar :focus-visible { outline: 2px solid #1a5fd0; outline-offset: 2px; }
.pg-bar details { display: inline-block; }
.pg-bar details[open] { display: flex; align-items: center; gap: 0.5rem; }
.pg-bar p { margin: 0; }
.pg-signin { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1rem; }
.pg-hint { color: #4d5560; }
.pg-error { color: #a4161a; font-weight: 600; }
.pg-error:empty, .pg-status:empty { display: none; }
[hidden] { display: none !important; }
#graphiql { flex: 1; min-height: 0; }
.pg-loading { display: flex; height: 100%; align-items: center; justify-content: center; font-size: 1.5rem; margin: 0; }
@media (prefers-color-scheme: dark) {
  .pg-bar { background: #1f242b; color: #e6e9ed; border-bottom-color: #3a414b; }
  .pg-bar input, .pg-bar button { background: #12161b; border-color: #7b8591; }
  .pg-hint { color: #aab2bc; }
  .pg-error { color: #ff8a8f; }
  .pg-bar :focus-visible { outline-color: #7fb0ff; }
}
</style>
</head>
<body>
<header class="pg-bar">
<h1>{{.Title}}</h1>
<div id="pg-signin" class="pg-signin">
<form id="pg-signin-form" method="post" action="{{.TokenEndpoint}}" aria-label="Sign in">
<label for="pg-username">Username</label>
<input id="pg-username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required>
<label for="pg-password">Password</label>
<input id="pg-password" name="password" type="password" autocomplete="current-password" required>
<label for="pg-scope">Scopes <span class="pg-hint">(optional)</span></label>
<input id="pg-scope" name="scope" autocomplete="off" spellcheck="false" placeholder="space-separated" aria-describedby="pg-scope-hint">
<span id="pg-scope-hint" hidden>Leave empty for all the scopes your account has.</span>
<button type="submit" id="pg-signin-button">Sign in</button>
</form>
<details>
<summary>Paste a token</summary>
<form id="pg-token-form" aria-label="Use an access token">
<label for="pg-token">Access token</label>
<input id="pg-token" type="password" autocomplete="off" spellcheck="false" required>
<button type="submit">Use token</button>
</form>
</details>
</div>
<div id="pg-session" hidden>
<p>Signed in as <strong id="pg-who"></strong>; scopes: <span id="pg-scopes"></span>; expires: <time id="pg-expires"></time><span id="pg-note" class="pg-hint"></span></p>
</div>
<button type="button" id="pg-signout" hidden>Sign out</button>
{{- if .Config.Tabs}}
<button type="button" id="pg-reset-tabs" title="Replace the open tabs with the example queries">Restore example tabs</button>
{{- end}}
<p id="pg-error" class="pg-error" role="alert"></p>
<p id="pg-status" class="pg-status" role="status"></p>
</header>
<main id="graphiql" aria-label="GraphiQL"><p class="pg-loading">Loading GraphiQL…</p></main>
<noscript><p>GraphiQL needs JavaScript.</p></noscript>
{{- range .Scripts}}
<script src="{{.URL}}" integrity="{{.SRI}}"></script>
{{- end}}
<script type="application/json" id="pg-config">{{.Config}}</script>
<script>{{.Bootstrap}}</script>
</body>
</html>
`))

// bootstrapJS signs in, keeps the token in sessionStorage and renders
// GraphiQL with a fetcher that adds the bearer token. It is inserted into the
// page verbatim and its hash is in the CSP, so it must never include a
// request-dependent value, nor "</" (which could end the element).
const bootstrapJS = `
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('pg-config').textContent);
  var SESSION_KEY = 'gadget.playground.session';
  var RESET_KEY = 'gadget.playground.reset-tabs';
  var TAB_KEYS = ['tabState', 'query', 'variables', 'headers', 'operationName'];
  var session = null;

  function $(id) { return document.getElementById(id); }
  function say(msg) { $('pg-error').textContent = ''; $('pg-status').textContent = msg; }
  function fail(msg) { $('pg-status').textContent = ''; $('pg-error').textContent = msg; }

  function store(s) {
    session = s;
    try {
      if (s) { sessionStorage.setItem(SESSION_KEY, JSON.stringify(s)); } else { sessionStorage.removeItem(SESSION_KEY); }
    } catch (e) { /* storage disabled: the token lives in this page only */ }
  }

  function restore() {
    var s = null;
    try { s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null'); } catch (e) { s = null; }
    if (s && typeof s.token === 'string' && s.token && !expired(s)) { session = s; } else { store(null); }
  }

  function expired(s) { return typeof s.expiresAt === 'number' && s.expiresAt <= Date.now(); }

  function splitScopes(v) {
    if (Array.isArray(v)) { return v.filter(function (x) { return typeof x === 'string' && x; }); }
    return typeof v === 'string' ? v.split(/\s+/).filter(Boolean) : [];
  }

  // claims reads a JWT's payload for display only; the server verifies it.
  function claims(token) {
    var parts = token.split('.');
    if (parts.length !== 3) { return null; }
    try {
      var b = parts[1].replace(/-/g, '+').replace(/_/g, '/');
      while (b.length % 4) { b += '='; }
      var bytes = Uint8Array.from(atob(b), function (ch) { return ch.charCodeAt(0); });
      var c = JSON.parse(new TextDecoder().decode(bytes));
      return c && typeof c === 'object' ? c : null;
    } catch (e) { return null; }
  }

  function show() {
    var on = !!session;
    $('pg-signin').hidden = on;
    $('pg-session').hidden = !on;
    $('pg-signout').hidden = !on;
    if (!on) { return; }
    $('pg-who').textContent = session.user || 'an unnamed user';
    $('pg-scopes').textContent = session.scopes && session.scopes.length ? session.scopes.join(' ') : 'none listed';
    var t = $('pg-expires');
    if (typeof session.expiresAt === 'number') {
      var d = new Date(session.expiresAt);
      var mins = Math.max(0, Math.round((session.expiresAt - Date.now()) / 60000));
      t.dateTime = d.toISOString();
      t.textContent = d.toLocaleString() + ' (in ' + mins + ' min)';
    } else {
      t.removeAttribute('datetime');
      t.textContent = 'unknown';
    }
    $('pg-note').textContent = session.source === 'pasted' ? ' (pasted token; details read from it, unverified)' : '';
  }

  function start(s, msg) {
    store(s);
    show();
    renderGraphiQL();
    say(msg);
    $('pg-signout').focus();
  }

  function signOut(msg) {
    store(null);
    show();
    renderGraphiQL();
    say(msg);
  }

  function checkExpiry() {
    if (session && expired(session)) {
      signOut('Your token expired. Sign in again.');
      $('pg-username').focus();
    }
  }

  function describeError(res, data) {
    var detail = data && typeof data.detail === 'string' ? data.detail : '';
    if (res.status === 429) {
      var ra = res.headers.get('Retry-After');
      var wait = ra ? (/^\d+$/.test(ra) ? '; try again in ' + ra + ' s' : '; try again after ' + ra) : '';
      return 'Too many sign-in attempts' + wait + '.' + (detail ? ' ' + detail : '');
    }
    if (res.status === 401) { return detail || 'Wrong username or password.'; }
    if (res.status === 400) { return detail || 'The sign-in request was rejected.'; }
    return 'Sign-in failed (HTTP ' + res.status + ')' + (detail ? ': ' + detail : '.');
  }

  function signIn(ev) {
    ev.preventDefault();
    var user = $('pg-username').value.trim();
    var pass = $('pg-password').value;
    var scope = $('pg-scope').value.trim().split(/\s+/).filter(Boolean).join(' ');
    if (!user || !pass) { fail('Enter a username and a password.'); return; }
    var body = new URLSearchParams();
    body.set('username', user);
    body.set('password', pass);
    if (scope) { body.set('scope', scope); }
    var button = $('pg-signin-button');
    button.disabled = true;
    say('Signing in…');
    fetch(cfg.tokenEndpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Accept': 'application/json' },
      body: body.toString(),
      credentials: 'same-origin',
      cache: 'no-store'
    }).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = JSON.parse(text); } catch (e) { data = null; }
        if (!res.ok) { throw new Error(describeError(res, data)); }
        if (!data || typeof data.access_token !== 'string' || !data.access_token ||
            String(data.token_type).toLowerCase() !== 'bearer') {
          throw new Error('The sign-in answer held no bearer token.');
        }
        var ttl = Number(data.expires_in);
        start({
          token: data.access_token,
          user: user,
          scopes: splitScopes(data.scope),
          expiresAt: ttl > 0 ? Date.now() + ttl * 1000 : null,
          source: 'password'
        }, 'Signed in as ' + user + '.');
      });
    }, function () {
      throw new Error('Could not reach ' + cfg.tokenEndpoint + '.');
    }).catch(function (err) {
      fail(err && err.message ? err.message : 'Sign-in failed.');
      $('pg-password').focus();
    }).then(function () {
      $('pg-password').value = '';
      button.disabled = false;
    });
  }

  function useToken(ev) {
    ev.preventDefault();
    var field = $('pg-token');
    var token = field.value.trim().replace(/^bearer\s+/i, '');
    if (!/^[\x21-\x7e]+$/.test(token)) { fail('That does not look like an access token.'); field.focus(); return; }
    var c = claims(token) || {};
    var exp = typeof c.exp === 'number' ? c.exp * 1000 : null;
    if (exp !== null && exp <= Date.now()) { fail('That token expired at ' + new Date(exp).toLocaleString() + '.'); field.focus(); return; }
    field.value = '';
    start({
      token: token,
      user: typeof c.sub === 'string' ? c.sub : '',
      scopes: splitScopes(c.scopes !== undefined ? c.scopes : c.scope),
      expiresAt: exp,
      source: 'pasted'
    }, 'Using the pasted token.');
  }

  // authFetch adds the bearer token unless the headers editor set one.
  function authFetch(input, init) {
    checkExpiry();
    init = init || {};
    var headers = new Headers(init.headers || {});
    if (session && !headers.has('Authorization')) { headers.set('Authorization', 'Bearer ' + session.token); }
    return window.fetch(input, Object.assign({}, init, { headers: headers, credentials: 'same-origin' }));
  }

  var root = null;
  var plugins = [];

  // renderGraphiQL (re)renders GraphiQL with a new fetcher, which makes it
  // fetch the schema again with the current token.
  function renderGraphiQL() {
    if (!root) { return; }
    var props = {
      fetcher: GraphiQL.createFetcher({ url: cfg.endpoint, fetch: authFetch }),
      plugins: plugins
    };
    if (cfg.tabs && cfg.tabs.length) { props.defaultTabs = cfg.tabs; }
    root.render(React.createElement(GraphiQL, props));
  }

  function resetTabs() {
    if (!window.confirm('Replace your open tabs with the example queries?')) { return; }
    try { sessionStorage.setItem(RESET_KEY, '1'); } catch (e) { clearTabs(); }
    window.location.reload();
  }

  function clearTabs() {
    try { TAB_KEYS.forEach(function (k) { localStorage.removeItem('graphiql:' + k); }); } catch (e) { /* nothing stored */ }
  }

  $('pg-signin-form').addEventListener('submit', signIn);
  $('pg-token-form').addEventListener('submit', useToken);
  $('pg-signout').addEventListener('click', function () {
    signOut('Signed out.');
    $('pg-username').focus();
  });
  if ($('pg-reset-tabs')) { $('pg-reset-tabs').addEventListener('click', resetTabs); }
  window.setInterval(function () { checkExpiry(); show(); }, 30000);

  restore();
  show();
  try {
    if (sessionStorage.getItem(RESET_KEY)) { sessionStorage.removeItem(RESET_KEY); clearTabs(); }
  } catch (e) { /* storage disabled */ }

  var el = $('graphiql');
  if (typeof React === 'undefined' || typeof ReactDOM === 'undefined' || typeof GraphiQL === 'undefined') {
    el.textContent = 'GraphiQL failed to load.';
    return;
  }
  if (typeof GraphiQLPluginExplorer !== 'undefined') { plugins.push(GraphiQLPluginExplorer.explorerPlugin()); }
  root = ReactDOM.createRoot(el);
  renderGraphiQL();
})();
`
