// Inspector Gadget portal: the lookup page streams results (NDJSON) as each
// provider answers. No other page needs script.
"use strict";
(function () {
  var form = document.getElementById("lookup-form");
  if (!form) return;
  var cards = document.getElementById("lookup-results");
  var status = document.getElementById("lookup-status");
  var invalid = document.getElementById("lookup-invalid");
  var exportBox = document.getElementById("lookup-export");
  var submit = document.getElementById("lookup-submit");
  var state = { rows: [], invalid: [], internal: [], started: "" };

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function age(s) {
    if (s < 120) return s + " s";
    if (s < 7200) return Math.round(s / 60) + " min";
    if (s < 172800) return Math.round(s / 3600) + " h";
    return Math.round(s / 86400) + " d";
  }

  // only the provider's own http(s) pages become links
  function safeLink(u) { return /^https?:\/\//i.test(u || "") ? u : ""; }

  // postForm sends fields as a url-encoded POST with the session's token
  function postForm(url, fields) {
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (k) {
      [].concat(fields[k]).forEach(function (v) { body.append(k, v); });
    });
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRF-Token": form.getAttribute("data-csrf"), "Content-Type": "application/x-www-form-urlencoded" }
    });
  }

  // newCard builds an indicator's card: head (value, kind, badge, score,
  // coverage), context line, sightings line, reasons, provider rows and
  // actions; renderCard fills it as answers arrive.
  function newCard(row) {
    var card = el("article", { "class": "card", "data-value": row.value, "data-kind": row.kind });
    var head = el("header", { "class": "card-head" });
    var h = el("h2", { "class": "value" });
    h.appendChild(el("code", {}, row.value));
    head.appendChild(h);
    var meta = el("p", { "class": "meta" });
    meta.appendChild(el("span", { "class": "kind" }, row.kind));
    meta.appendChild(el("span", { "class": "badge PENDING", "data-level": "PENDING" }, "PENDING"));
    meta.appendChild(el("span", { "class": "score" }));
    meta.appendChild(el("span", { "class": "coverage" }));
    head.appendChild(meta);
    card.appendChild(head);
    card.appendChild(el("p", { "class": "context", hidden: "" }));
    card.appendChild(el("p", { "class": "sightings", hidden: "" }));
    card.appendChild(el("ul", { "class": "reasons" }));
    card.appendChild(el("div", { "class": "provs" }));
    card.appendChild(el("div", { "class": "card-actions", hidden: "" }));
    return card;
  }

  // internalCard is a value that is never looked up, shown once
  function internalCard(value, kind, reason) {
    var card = el("article", { "class": "card internal", "data-value": value, "data-kind": kind || "" });
    var head = el("header", { "class": "card-head" });
    var h = el("h2", { "class": "value" });
    h.appendChild(el("code", {}, value));
    head.appendChild(h);
    var meta = el("p", { "class": "meta" });
    if (kind) meta.appendChild(el("span", { "class": "kind" }, kind));
    meta.appendChild(el("span", { "class": "badge INTERNAL", "data-level": "INTERNAL" }, "INTERNAL"));
    head.appendChild(meta);
    card.appendChild(head);
    card.appendChild(el("p", { "class": "internal-note" }, "internal — not looked up" + (reason ? ": " + reason : "")));
    return card;
  }

  function providerRow(res) {
    var d = el("div", { "class": "prov", "data-provider": res.provider, "data-status": res.status });
    var line = el("p", { "class": "prov-line" });
    line.appendChild(el("strong", { "class": "prov-name" }, res.provider));
    if (res.status === "OK" && res.level) {
      line.appendChild(el("span", { "class": "badge small " + res.level, "data-level": res.level }, res.level + " " + res.score));
    } else {
      line.appendChild(el("span", { "class": "status status-" + res.status }, res.status.replace("_", " ")));
    }
    var text = res.status === "OK" ? res.reason : res.error;
    if (text) line.appendChild(el("span", { "class": "prov-reason" }, text));
    var bits = [];
    if (res.cached) bits.push("cached" + (res.fetchedAt ? ", " + age(res.ageSeconds) + " old" : ""));
    else if (res.status === "OK" || res.status === "NOT_FOUND") bits.push(res.latencyMs + " ms");
    if (bits.length) line.appendChild(el("span", { "class": "prov-meta" }, bits.join(" · ")));
    var link = safeLink(res.link);
    if (link) line.appendChild(el("a", { href: link, target: "_blank", rel: "noopener noreferrer", "class": "prov-link" }, "open in " + res.provider));
    d.appendChild(line);
    if (res.data) {
      var raw = el("details", { "class": "raw" });
      raw.appendChild(el("summary", {}, "raw JSON"));
      raw.appendChild(el("pre", {}, JSON.stringify(res.data, null, 2)));
      d.appendChild(raw);
    }
    return d;
  }

  function renderCard(i) {
    var r = state.rows[i], card = r.card;
    var v = r.verdict;
    var done = r.results.length === r.providers.length;
    var badge = card.querySelector(".badge");
    var level = v ? v.level : "PENDING";
    badge.className = "badge " + level;
    badge.setAttribute("data-level", level);
    badge.textContent = done || !v ? level : level + "…";
    card.querySelector(".score").textContent = v ? "score " + v.score : "";
    var cov = card.querySelector(".coverage");
    cov.textContent = v ? v.coverage : r.providers.length + " providers asked";
    cov.setAttribute("data-complete", v && v.complete ? "true" : "false");
    var cx = card.querySelector(".context");
    cx.replaceChildren();
    ((v && v.context) || []).forEach(function (c, k) {
      if (k) cx.appendChild(document.createTextNode(" · "));
      var s = el("span", { title: c.label + " from " + c.source, "data-field": c.label });
      if (c.label !== "ASN" && c.label !== "owner" && c.label !== "country") s.appendChild(el("span", { "class": "label" }, c.label + " "));
      s.appendChild(document.createTextNode(c.value));
      cx.appendChild(s);
    });
    cx.hidden = !cx.childNodes.length;
    var ul = card.querySelector(".reasons");
    ul.replaceChildren();
    ((v && v.reasons) || []).forEach(function (x) { ul.appendChild(el("li", {}, x)); });
    var provs = card.querySelector(".provs");
    provs.replaceChildren();
    r.results.slice().sort(function (a, b) { return a.provider < b.provider ? -1 : 1; }).forEach(function (res) { provs.appendChild(providerRow(res)); });
  }

  function renderInternalRow(i) {
    var r = state.rows[i];
    var v = r.verdict;
    var note = r.card.querySelector(".internal-note");
    if (v && v.level !== "UNKNOWN") note.textContent = "internal — not looked up: " + r.internal + " (" + v.level + ")";
  }

  // actions: this card's STIX export, and a manual verdict or note on
  // the analyst's own sighting of the value
  function addActions(i) {
    var r = state.rows[i], box = r.card.querySelector(".card-actions");
    if (!box) return;
    var stix = el("button", { type: "button", "class": "card-stix" }, "STIX 2.1");
    stix.addEventListener("click", function () { downloadSTIX(r.value); });
    box.appendChild(stix);
    if (form.getAttribute("data-annotate") === "true") {
      var f = el("form", { "class": "annotate" });
      var sel = el("select", { name: "verdict", "aria-label": "Manual verdict on " + r.value });
      [["", "no verdict"], ["TRUE_POSITIVE", "true positive"], ["FALSE_POSITIVE", "false positive"]].forEach(function (o) {
        sel.appendChild(el("option", { value: o[0] }, o[1]));
      });
      f.appendChild(sel);
      f.appendChild(el("input", { name: "note", maxlength: "2000", placeholder: "note on my sighting", "aria-label": "Note on " + r.value }));
      f.appendChild(el("button", { type: "submit" }, "Save"));
      var out = el("span", { "class": "annotate-status", role: "status" });
      f.appendChild(out);
      f.addEventListener("submit", function (e) {
        e.preventDefault();
        out.textContent = "Saving…";
        postForm("/portal/sightings", { value: r.value, verdict: sel.value, note: f.elements.note.value, since: state.started })
          .then(function (resp) { return resp.json().then(function (b) { return { ok: resp.ok, body: b }; }); })
          .then(function (a) {
            if (!a.ok) throw new Error(a.body.error || "failed");
            out.textContent = "Saved.";
            var s = r.card.querySelector(".sightings");
            s.textContent = a.body.sightings;
            s.hidden = false;
            f.setAttribute("data-saved", "true");
          }).catch(function (err) { out.textContent = err.message; });
      });
      box.appendChild(f);
    }
    box.hidden = false;
  }

  function handle(ev) {
    if (ev.type === "plan") {
      state.invalid = ev.invalid || [];
      state.internal = ev.internal || [];
      state.started = ev.started || "";
      invalid.replaceChildren();
      state.invalid.forEach(function (b) {
        var li = el("li", { "data-kind": b.kind || "invalid" });
        li.appendChild(el("strong", {}, (b.kind || "invalid") + " "));
        li.appendChild(document.createTextNode(b.input + ": " + b.error));
        invalid.appendChild(li);
      });
      (ev.rows || []).forEach(function (row, i) {
        var card = row.internal ? internalCard(row.value, row.kind, row.internal) : newCard(row);
        cards.appendChild(card);
        state.rows.push({ value: row.value, kind: row.kind, providers: row.providers, internal: row.internal || "", results: [], verdict: null, card: card });
        if (!row.internal) renderCard(i);
      });
      state.internal.forEach(function (w) { cards.appendChild(internalCard(w.value, w.kind, w.reason)); });
      cards.hidden = !cards.childNodes.length;
      status.textContent = "Looking up " + state.rows.length + " indicator(s)" + (ev.tlp ? " at " + ev.tlp : "") + (ev.playbook ? " with playbook " + ev.playbook : "") + "…";
    } else if (ev.type === "result") {
      var r = state.rows[ev.row];
      r.results.push(ev.result);
      r.verdict = ev.verdict;
      if (r.internal) renderInternalRow(ev.row); else renderCard(ev.row);
    } else if (ev.type === "seen") {
      var s = state.rows[ev.row].card.querySelector(".sightings");
      if (s) {
        s.textContent = ev.sightings;
        s.hidden = false;
      }
    } else if (ev.type === "done") {
      state.rows.forEach(function (r, i) { if (!r.internal) addActions(i); });
      status.textContent = "Done: " + state.rows.length + " indicator(s)" + (state.internal.length ? ", " + state.internal.length + " internal (not looked up)" : "") + (state.invalid.length ? ", " + state.invalid.length + " left out (listed with the reason)" : "") + ".";
      exportBox.hidden = state.rows.length === 0;
      form.setAttribute("data-done", "true");
    }
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    state = { rows: [], invalid: [], internal: [], started: "" };
    cards.replaceChildren();
    cards.hidden = true;
    invalid.replaceChildren();
    exportBox.hidden = true;
    form.removeAttribute("data-done");
    submit.disabled = true;
    status.textContent = "Starting…";
    fetch(form.action, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": form.getAttribute("data-csrf"), "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(new FormData(form))
    }).then(function (resp) {
      if (!resp.ok) {
        return resp.json().then(function (b) { throw new Error(b.error || resp.statusText); },
          function () { throw new Error(resp.status + " " + resp.statusText); });
      }
      var reader = resp.body.getReader(), dec = new TextDecoder(), buf = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) return;
          buf += dec.decode(chunk.value, { stream: true });
          var lines = buf.split("\n");
          buf = lines.pop();
          lines.forEach(function (l) { if (l.trim()) handle(JSON.parse(l)); });
          return pump();
        });
      }
      return pump();
    }).catch(function (err) {
      status.textContent = "";
      invalid.replaceChildren(el("li", { role: "alert" }, err.message));
    }).finally(function () { submit.disabled = false; });
  });

  function plain() {
    return state.rows.map(function (r) {
      return { value: r.value, kind: r.kind, internal: r.internal || undefined, verdict: r.verdict, results: r.results };
    });
  }
  function csv() {
    var q = function (s) {
      s = String(s == null ? "" : s);
      if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
      return '"' + s.replace(/"/g, '""') + '"';
    };
    var lines = [["value", "kind", "verdict", "score", "coverage", "reasons", "provider", "status", "level", "provider_score", "reason", "link", "cached", "latency_ms"].join(",")];
    state.rows.forEach(function (r) {
      var v = r.verdict || { level: "PENDING", score: "", reasons: [], coverage: "" };
      r.results.forEach(function (res) {
        lines.push([r.value, r.kind, v.level, v.score, v.coverage, v.reasons.join("; "), res.provider, res.status, res.level || "",
          res.level ? res.score : "", res.status === "OK" ? res.reason : res.error, res.link, res.cached, res.latencyMs].map(q).join(","));
      });
    });
    return lines.join("\r\n") + "\r\n";
  }
  function download(name, type, text) {
    var a = el("a", { href: URL.createObjectURL(new Blob([text], { type: type })), download: name });
    document.body.appendChild(a);
    a.click();
    a.remove();
  }
  document.getElementById("copy-csv").addEventListener("click", function () {
    navigator.clipboard.writeText(csv()).then(function () { status.textContent = "Copied CSV to the clipboard."; },
      function () { status.textContent = "The browser refused the clipboard; use Download CSV."; });
  });
  document.getElementById("download-csv").addEventListener("click", function () { download("lookup.csv", "text/csv", csv()); });
  document.getElementById("download-json").addEventListener("click", function () {
    download("lookup.json", "application/json", JSON.stringify(plain(), null, 2));
  });
  // STIX 2.1: the server makes the bundle (the cache answers what the page
  // has just shown); a hidden form posts the values with the lookup's
  // playbook, TLP and providers
  function downloadSTIX(values) {
    var f = document.createElement("form");
    f.method = "post";
    f.action = "/portal/lookup/stix";
    f.hidden = true;
    var add = function (name, value) {
      var i = document.createElement("input");
      i.type = "hidden";
      i.name = name;
      i.value = value;
      f.appendChild(i);
    };
    add("csrf", form.dataset.csrf);
    add("values", values);
    ["playbook", "tlp"].forEach(function (n) { if (form.elements[n]) add(n, form.elements[n].value); });
    if (form.elements.cached_only.checked) add("cached_only", "on");
    form.querySelectorAll('input[name="providers"]:checked').forEach(function (c) { add("providers", c.value); });
    document.body.appendChild(f);
    f.submit();
    f.remove();
  }
  document.getElementById("download-stix").addEventListener("click", function () {
    downloadSTIX(state.rows.map(function (r) { return r.value; }).join("\n"));
  });
})();
