// Inspector Gadget portal: the lookup page streams results (NDJSON) as each
// provider answers. No other page needs script.
"use strict";
(function () {
  var form = document.getElementById("lookup-form");
  if (!form) return;
  var table = document.getElementById("lookup-results");
  var tbody = table.querySelector("tbody");
  var status = document.getElementById("lookup-status");
  var invalid = document.getElementById("lookup-invalid");
  var exportBox = document.getElementById("lookup-export");
  var submit = document.getElementById("lookup-submit");
  var state = { rows: [], invalid: [] };

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function age(s) {
    if (s < 120) return s + " s";
    if (s < 7200) return Math.round(s / 60) + " min";
    return Math.round(s / 3600) + " h";
  }

  function renderRow(i) {
    var r = state.rows[i], tr = r.tr;
    var v = r.verdict || { level: "PENDING", score: 0, reasons: [] };
    var done = r.results.length === r.providers.length;
    tr.cells[2].replaceChildren(el("span", { "class": "badge " + v.level, "data-level": v.level }, done ? v.level : (r.verdict ? v.level + "…" : "PENDING")));
    tr.cells[3].textContent = r.verdict ? String(v.score) : "";
    var ul = el("ul");
    v.reasons.forEach(function (x) { ul.appendChild(el("li", {}, x)); });
    tr.cells[4].replaceChildren(ul);
    var box = el("div");
    box.appendChild(el("span", {}, r.results.length + " of " + r.providers.length + " answered"));
    r.results.forEach(function (res) {
      var d = el("details", { "class": "prov" });
      var sum = el("summary");
      sum.appendChild(el("strong", {}, res.provider + " "));
      sum.appendChild(el("span", { "class": "status-" + res.status }, res.status));
      var meta = " · " + res.latencyMs + " ms";
      if (res.cached) meta += " · cached" + (res.fetchedAt ? ", " + age(res.ageSeconds) + " old" : "");
      sum.appendChild(document.createTextNode(meta));
      d.appendChild(sum);
      if (res.error) d.appendChild(el("p", { "class": "error" }, res.error));
      if (res.data) d.appendChild(el("pre", {}, JSON.stringify(res.data, null, 2)));
      box.appendChild(d);
    });
    tr.cells[5].replaceChildren(box);
  }

  function handle(ev) {
    if (ev.type === "plan") {
      state.invalid = ev.invalid || [];
      invalid.replaceChildren();
      state.invalid.forEach(function (b) {
        var li = el("li", { "data-kind": b.kind || "invalid" });
        li.appendChild(el("strong", {}, (b.kind || "invalid") + " "));
        li.appendChild(document.createTextNode(b.input + ": " + b.error));
        invalid.appendChild(li);
      });
      (ev.rows || []).forEach(function (row, i) {
        var tr = el("tr", { "data-value": row.value });
        tr.appendChild(el("th", { scope: "row" }, row.value));
        tr.appendChild(el("td", {}, row.kind));
        for (var k = 0; k < 4; k++) tr.appendChild(el("td"));
        tbody.appendChild(tr);
        state.rows.push({ value: row.value, kind: row.kind, providers: row.providers, results: [], verdict: null, tr: tr });
        renderRow(i);
      });
      table.hidden = state.rows.length === 0;
      status.textContent = "Looking up " + state.rows.length + " indicator(s)…";
    } else if (ev.type === "result") {
      var r = state.rows[ev.row];
      r.results.push(ev.result);
      r.verdict = ev.verdict;
      renderRow(ev.row);
    } else if (ev.type === "done") {
      status.textContent = "Done: " + state.rows.length + " indicator(s)" + (state.invalid.length ? ", " + state.invalid.length + " left out (listed with the reason)" : "") + ".";
      exportBox.hidden = state.rows.length === 0;
      form.setAttribute("data-done", "true");
    }
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    state = { rows: [], invalid: [] };
    tbody.replaceChildren();
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
      return { value: r.value, kind: r.kind, verdict: r.verdict, results: r.results };
    });
  }
  function csv() {
    var q = function (s) {
      s = String(s == null ? "" : s);
      if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
      return '"' + s.replace(/"/g, '""') + '"';
    };
    var lines = [["value", "kind", "verdict", "score", "reasons", "provider", "status", "cached", "latency_ms"].join(",")];
    state.rows.forEach(function (r) {
      var v = r.verdict || { level: "PENDING", score: "", reasons: [] };
      r.results.forEach(function (res) {
        lines.push([r.value, r.kind, v.level, v.score, v.reasons.join("; "), res.provider, res.status, res.cached, res.latencyMs].map(q).join(","));
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
  // has just shown); a hidden form posts the same values and providers
  document.getElementById("download-stix").addEventListener("click", function () {
    var src = document.getElementById("lookup-form");
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
    add("csrf", src.dataset.csrf);
    add("values", document.getElementById("values").value);
    add("preset", document.getElementById("preset").value);
    add("tlp", document.getElementById("stix-tlp").value);
    src.querySelectorAll('input[name="providers"]:checked').forEach(function (c) { add("providers", c.value); });
    document.body.appendChild(f);
    f.submit();
    f.remove();
  });
})();
