// report.js: draws the report's charts from the embedded data, shows times in
// the reader's local time and sorts tables on a header click (the Aggregated
// row stays last). Uses PLChart from charts.js.
(function () {
  "use strict";
  var COLORS = {rps: "#00a854", fail: "#e5484d", p50: "#2b6cb0", p95: "#d97706",
    users: "#6e56cf", cpu: "#0e7490", lag: "#be185d"};

  function localize() {
    var spans = document.querySelectorAll(".l10n.datetime");
    for (var i = 0; i < spans.length; i++) {
      var d = new Date(spans[i].getAttribute("data-utc"));
      if (!isNaN(d.getTime())) { spans[i].textContent = d.toLocaleString(); }
    }
    var tz = document.querySelectorAll(".tz");
    for (var j = 0; j < tz.length; j++) { tz[j].textContent = "your local time"; }
  }

  function sortable() {
    var tables = document.querySelectorAll("table.sortable");
    Array.prototype.forEach.call(tables, function (table) {
      var ths = table.querySelectorAll("thead th");
      Array.prototype.forEach.call(ths, function (th, col) {
        var asc = false;
        th.addEventListener("click", function () {
          asc = !asc;
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          var total = rows.filter(function (r) { return r.classList.contains("total"); });
          rows = rows.filter(function (r) { return !r.classList.contains("total"); });
          rows.sort(function (a, b) {
            var x = a.cells[col].textContent, y = b.cells[col].textContent;
            var nx = parseFloat(x), ny = parseFloat(y);
            var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
            return asc ? c : -c;
          });
          rows.concat(total).forEach(function (r) { body.appendChild(r); });
        });
      });
    });
  }

  function charts() {
    var node = document.getElementById("report-data");
    if (!node || !window.PLChart) { return; }
    var data = JSON.parse(node.textContent);
    var h = data.history;
    if (!h || !h.t || h.t.length === 0) { return; }
    var byId = function (id) { return document.getElementById(id); };
    if (byId("chart-rps")) {
      PLChart.line(byId("chart-rps"), {title: "Total Requests per Second", series: [
        {key: "rps", name: "RPS", color: COLORS.rps},
        {key: "fail", name: "Failures/s", color: COLORS.fail}]}).update(h);
    }
    if (byId("chart-rt")) {
      PLChart.line(byId("chart-rt"), {title: "Response Times", unit: "ms", series: [
        {key: "p50", name: "Median", color: COLORS.p50},
        {key: "p95", name: "95th percentile", color: COLORS.p95},
        {key: "ip50", name: "Median (intended)", color: COLORS.p50, dash: true},
        {key: "ip95", name: "95th (intended)", color: COLORS.p95, dash: true}]}).update(h);
    }
    if (byId("chart-users")) {
      var u = {t: h.t, users: h.users, n: h.users};
      PLChart.line(byId("chart-users"), {title: "Number of Users", series: [
        {key: "n", name: "Users", color: COLORS.users}]}).update(u);
    }
    var sc = data.self_check;
    if (sc && byId("chart-check")) {
      PLChart.line(byId("chart-check"), {title: "Generator self-check", series: [
        {key: "cpu", name: "CPU %", color: COLORS.cpu},
        {key: "lag", name: "Max schedule lag (ms)", color: COLORS.lag}]}).update(sc);
    }
  }

  localize();
  sortable();
  charts();
})();
