// app.js: the loadgen web UI. Polls /stats/requests (2 s), /stats/history
// (2 s, charts), /exceptions (5 s) and, while the Current ratio tab is shown,
// /tasks (1 s); one request of each kind in flight at most, so a slow or busy
// generator is never flooded. Server data is inserted with textContent only.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var COLORS = {rps: "#00a854", fail: "#e5484d", p50: "#2b6cb0", p95: "#d97706",
    users: "#6e56cf", cpu: "#0e7490", lag: "#be185d"};
  var state = document.body.getAttribute("data-state");
  var sortKey = null, sortAsc = true, lastStats = [];
  var charts = null, lastHistory = null, activeTab = "stats";

  function round(v, d) {
    if (v === null || v === undefined) { return ""; }
    var f = Math.pow(10, d || 0);
    return String(Math.round(v * f) / f);
  }

  function setState(s) {
    state = s;
    document.body.setAttribute("data-state", s);
    var el = $("st-state");
    el.textContent = s;
    el.className = "state " + s;
  }

  function show(id, on) { $(id).hidden = !on; }

  // The server refuses state changes from a browser without the page's token.
  var csrf = {"X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content};

  function getJSON(url) {
    return fetch(url, {cache: "no-store", credentials: "same-origin", headers: csrf}).then(function (r) {
      if (!r.ok) { throw new Error(url + ": HTTP " + r.status); }
      return r.json();
    });
  }

  function post(url, form) {
    return fetch(url, {method: "POST", credentials: "same-origin", headers: csrf, body: new URLSearchParams(new FormData(form))})
      .then(function (r) { return r.json(); });
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    tr.appendChild(td);
  }

  function renderStats(rows) {
    var body = $("stats-table").tBodies[0];
    var list = rows.slice(0, -1), total = rows[rows.length - 1];
    if (sortKey) {
      list.sort(function (a, b) {
        var x = a[sortKey], y = b[sortKey];
        var c = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y));
        return sortAsc ? c : -c;
      });
    }
    if (total) { list.push(total); }
    var frag = document.createDocumentFragment();
    list.forEach(function (s) {
      var tr = document.createElement("tr");
      if (s.name === "Aggregated" && s === total) { tr.className = "total"; }
      cell(tr, s.method || "", "l");
      cell(tr, s.name, "name");
      cell(tr, s.num_requests);
      cell(tr, s.num_failures);
      cell(tr, round(s.median_response_time));
      cell(tr, round(s.ninetieth_response_time));
      cell(tr, round(s.ninety_ninth_response_time));
      cell(tr, round(s.avg_response_time));
      cell(tr, s.min_response_time);
      cell(tr, s.max_response_time);
      cell(tr, round(s.avg_content_length));
      cell(tr, round(s.current_rps, 2));
      cell(tr, round(s.current_fail_per_sec, 2));
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
  }

  function renderFailures(errors) {
    var body = $("failures-table").tBodies[0], frag = document.createDocumentFragment();
    errors.forEach(function (e) {
      var tr = document.createElement("tr");
      cell(tr, e.occurrences);
      cell(tr, e.method, "l");
      cell(tr, unescapeHTML(e.name), "name");
      cell(tr, unescapeHTML(e.error), "err");
      frag.appendChild(tr);
    });
    if (errors.length === 0) { frag.appendChild(emptyRow(4, "No failures")); }
    body.replaceChildren(frag);
    $("n-failures").textContent = errors.length ? String(errors.length) : "";
  }

  function renderExceptions(list) {
    var body = $("exceptions-table").tBodies[0], frag = document.createDocumentFragment();
    list.forEach(function (e) {
      var tr = document.createElement("tr");
      cell(tr, e.count);
      cell(tr, unescapeHTML(e.msg), "err");
      cell(tr, unescapeHTML(e.traceback), "err");
      frag.appendChild(tr);
    });
    if (list.length === 0) { frag.appendChild(emptyRow(3, "No exceptions")); }
    body.replaceChildren(frag);
    $("n-exceptions").textContent = list.length ? String(list.length) : "";
  }

  // Workers tab (a master only), as Locust's: id, state, users, CPU % (red
  // above 90 %, where Locust warns), memory in MB; a missing worker's row is red.
  function renderWorkers(workers) {
    if (!$("workers-table")) { return; }
    var body = $("workers-table").tBodies[0], frag = document.createDocumentFragment();
    workers.forEach(function (w) {
      var tr = document.createElement("tr");
      if (w.state === "missing") { tr.className = "missing"; }
      cell(tr, w.id, "l name");
      cell(tr, w.state, "l");
      cell(tr, w.user_count);
      cell(tr, round(w.cpu_usage, 1) + "%", w.cpu_usage > 90 ? "hot" : "");
      cell(tr, round((w.memory_usage || 0) / 1048576, 1) + " MB");
      frag.appendChild(tr);
    });
    if (workers.length === 0) { frag.appendChild(emptyRow(5, "No workers connected")); }
    body.replaceChildren(frag);
    var live = workers.filter(function (w) { return w.state !== "missing"; }).length;
    $("n-workers").textContent = String(workers.length);
    $("st-workers").textContent = String(live);
  }

  function emptyRow(n, text) {
    var tr = document.createElement("tr"), td = document.createElement("td");
    td.colSpan = n;
    td.className = "empty";
    td.textContent = text;
    tr.appendChild(td);
    return tr;
  }

  // The JSON escapes names and errors as Locust does; show the text as it was.
  var decoder = document.createElement("textarea");
  function unescapeHTML(s) {
    decoder.innerHTML = s === null || s === undefined ? "" : String(s);
    return decoder.value;
  }

  function pollStats() {
    getJSON("./stats/requests").then(function (d) {
      setState(d.state);
      $("st-users").textContent = d.user_count;
      $("st-rps").textContent = round(d.total_rps, 2);
      var pct = Math.round((d.fail_ratio || 0) * 100);
      $("st-fail").textContent = pct + "%";
      $("st-fail").className = "v" + (pct > 0 ? " bad" : "");
      lastStats = d.stats || [];
      renderStats(lastStats);
      renderFailures(d.errors || []);
      if (d.workers) { renderWorkers(d.workers); }
      $("stats-note").textContent = lastStats.length > 500 ? "Showing the first 500 entries." : "";
      if (d.state === "ready" && $("start").hidden && !startedOnce) { openStart(); }
    }).catch(function () { /* keep the last view; next poll retries */ })
      .then(function () { setTimeout(pollStats, 2000); });
  }

  function makeCharts() {
    if (charts) { return; }
    charts = {
      rps: PLChart.line($("chart-rps"), {title: "Total Requests per Second", series: [
        {key: "rps", name: "RPS", color: COLORS.rps}, {key: "fail", name: "Failures/s", color: COLORS.fail}]}),
      rt: PLChart.line($("chart-rt"), {title: "Response Times", unit: "ms", series: [
        {key: "p50", name: "Median", color: COLORS.p50}, {key: "p95", name: "95th percentile", color: COLORS.p95},
        {key: "ip50", name: "Median (intended)", color: COLORS.p50, dash: true},
        {key: "ip95", name: "95th (intended)", color: COLORS.p95, dash: true}]}),
      users: PLChart.line($("chart-users"), {title: "Number of Users", series: [
        {key: "n", name: "Users", color: COLORS.users}]}),
      check: PLChart.line($("chart-check"), {title: "Generator self-check", series: [
        {key: "cpu", name: "CPU %", color: COLORS.cpu}, {key: "lag", name: "Max schedule lag (ms)", color: COLORS.lag}]})
    };
  }

  function drawCharts() {
    if (!lastHistory || activeTab !== "charts") { return; }
    makeCharts();
    var h = lastHistory.history || {t: []};
    charts.rps.update(h);
    charts.rt.update(h);
    charts.users.update({t: h.t, users: h.users, n: h.users});
    charts.check.update(lastHistory.self_check || {t: []});
  }

  function renderVerdict(sc) {
    var v = $("verdict"), txt = $("verdict-text"), badge = v.querySelector(".badge"), hdr = $("st-check");
    // A master's chart shows its workers' seconds (or none): say so.
    $("check-note").textContent = (sc && sc.timeline_note) || "";
    if (!sc) {
      v.className = "verdict unknown"; badge.textContent = "SELF-CHECK"; txt.textContent = "No data yet.";
      hdr.textContent = "–"; hdr.className = "v"; return;
    }
    v.className = "verdict " + (sc.valid ? "ok" : "bad");
    badge.textContent = sc.valid ? "VALID" : "NOT VALID";
    txt.textContent = (sc.valid ? "The generator keeps up with its schedule." : "The generator itself may distort these numbers.") +
      " Max CPU " + round(sc.max_cpu_percent, 1) + "% · max schedule lag " + round(sc.max_schedule_lag_ms, 1) + " ms · " +
      round(sc.late_percent || 0, 1) + "% of requests more than 10 ms late." +
      (sc.warnings && sc.warnings.length ? " " + sc.warnings.join(" ") : "");
    hdr.textContent = sc.valid ? "OK" : "CHECK";
    hdr.className = "v " + (sc.valid ? "ok" : "bad");
    hdr.title = txt.textContent;
  }

  function pollHistory() {
    getJSON("./stats/history").then(function (d) {
      lastHistory = d;
      renderVerdict(d.verdict);
      drawCharts();
    }).catch(function () {}).then(function () { setTimeout(pollHistory, 2000); });
  }

  function pollExceptions() {
    getJSON("./exceptions").then(function (d) { renderExceptions(d.exceptions || []); })
      .catch(function () {}).then(function () { setTimeout(pollExceptions, 5000); });
  }

  // Current ratio: the /tasks JSON as Locust's tasks.js shows it, each
  // ratio as (ratio * 100).toFixed(1) + "%", tasks under their class.
  function ratioRow(kind, name, r) {
    var tr = document.createElement("tr"), td = document.createElement("td"), bar = document.createElement("div");
    tr.className = kind;
    cell(tr, name, "name");
    cell(tr, (r * 100).toFixed(1) + "%", "pct");
    td.className = "gauge";
    bar.className = "ratio-bar";
    bar.style.width = Math.max(0, Math.min(100, r * 100)) + "%";
    td.appendChild(bar);
    tr.appendChild(td);
    return tr;
  }

  function renderRatio(tableId, classes) {
    var frag = document.createDocumentFragment();
    Object.keys(classes).forEach(function (name) {
      var c = classes[name], tasks = c.tasks || {};
      frag.appendChild(ratioRow("class", name, c.ratio));
      Object.keys(tasks).forEach(function (t) { frag.appendChild(ratioRow("task", t, tasks[t].ratio)); });
    });
    if (!frag.childNodes.length) { frag.appendChild(emptyRow(3, "No user classes")); }
    $(tableId).tBodies[0].replaceChildren(frag);
  }

  var tasksBusy = false;
  function refreshTasks() {
    if (tasksBusy || activeTab !== "ratio") { return; }
    tasksBusy = true;
    getJSON("./tasks").then(function (d) {
      renderRatio("ratio-per-class", d.per_class || {});
      renderRatio("ratio-total", d.total || {});
    }).catch(function () {}).then(function () { tasksBusy = false; });
  }

  function pollTasks() {
    refreshTasks();
    setTimeout(pollTasks, 1000);
  }

  function selectTab(name) {
    activeTab = name;
    Array.prototype.forEach.call(document.querySelectorAll(".tab"), function (t) {
      t.classList.toggle("active", t.getAttribute("data-tab") === name);
    });
    Array.prototype.forEach.call(document.querySelectorAll(".panel"), function (p) {
      p.hidden = p.id !== "tab-" + name;
    });
    drawCharts();
    refreshTasks();
  }

  var startedOnce = false;
  function openStart() {
    show("swarm-error", false);
    show("btn-cancel-start", state !== "ready");
    show("start", true);
    $("user_count").focus();
  }

  function swarm(form, errId, overlayId) {
    show(errId, false);
    post("./swarm", form).then(function (d) {
      if (!d.success) {
        $(errId).textContent = d.message || "The test could not be started.";
        show(errId, true);
        return;
      }
      startedOnce = true;
      show(overlayId, false);
      if (d.host !== undefined) { $("st-host").textContent = d.host; }
      setState("spawning");
    }).catch(function (e) {
      $(errId).textContent = "Request failed: " + e.message;
      show(errId, true);
    });
  }

  $("swarm-form").addEventListener("submit", function (ev) { ev.preventDefault(); swarm(this, "swarm-error", "start"); });
  $("edit-form").addEventListener("submit", function (ev) { ev.preventDefault(); swarm(this, "edit-error", "edit"); });
  $("btn-cancel-start").addEventListener("click", function () { show("start", false); });
  $("btn-cancel-edit").addEventListener("click", function () { show("edit", false); });
  $("btn-new").addEventListener("click", function (ev) { ev.preventDefault(); openStart(); });
  $("btn-edit").addEventListener("click", function (ev) {
    ev.preventDefault();
    show("edit-error", false);
    show("edit", true);
    $("edit_user_count").focus();
  });
  $("btn-stop").addEventListener("click", function () {
    getJSON("./stop").then(function () { setState("stopping"); }).catch(function () {});
  });
  $("btn-reset").addEventListener("click", function () {
    fetch("./stats/reset", {credentials: "same-origin", headers: csrf}).catch(function () {});
  });
  Array.prototype.forEach.call(document.querySelectorAll(".tab"), function (t) {
    t.addEventListener("click", function (ev) { ev.preventDefault(); selectTab(t.getAttribute("data-tab")); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("#stats-table th"), function (th) {
    th.addEventListener("click", function () {
      var k = th.getAttribute("data-key");
      sortAsc = sortKey === k ? !sortAsc : true;
      sortKey = k;
      Array.prototype.forEach.call(document.querySelectorAll("#stats-table th"), function (o) {
        o.classList.remove("sorted-asc", "sorted-desc");
      });
      th.classList.add(sortAsc ? "sorted-asc" : "sorted-desc");
      renderStats(lastStats);
    });
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") {
      if (state !== "ready") { show("start", false); }
      show("edit", false);
    }
  });

  setState(state);
  if (state === "ready") { openStart(); } else { startedOnce = true; }
  if (location.hash.length > 1 && $("tab-" + location.hash.slice(1))) { selectTab(location.hash.slice(1)); }
  pollStats();
  pollHistory();
  pollExceptions();
  pollTasks();
})();
