// charts.js: a small, dependency-free SVG line chart for predictlab's loadgen
// (HTML report and live web UI). Written for this project; no network access,
// no third-party code. Licence: the project's own.
//
//   var c = PLChart.line(element, {title: "...", unit: "ms", series: [
//       {key: "p50", name: "Median", color: "#1f77b4", dash: false}, ...]});
//   c.update({t: [unix seconds...], users: [..], p50: [..], ...});
//
// Values may be null (a gap). The chart redraws on resize and shows a
// tooltip (time, every series, users) under the mouse.
(function (global) {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) { if (attrs.hasOwnProperty(k)) { e.setAttribute(k, attrs[k]); } }
    if (parent) { parent.appendChild(e); }
    return e;
  }

  // niceStep returns a round tick step so that span/step is about n.
  function niceStep(span, n) {
    if (!(span > 0)) { return 1; }
    var raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / mag;
    var nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return nice * mag;
  }

  function fmtNum(v) {
    if (v === null || v === undefined || isNaN(v)) { return "–"; }
    var a = Math.abs(v);
    if (a >= 1e6) { return (v / 1e6).toFixed(a >= 1e7 ? 0 : 1) + "M"; }
    if (a >= 1e4) { return (v / 1e3).toFixed(a >= 1e5 ? 0 : 1) + "k"; }
    if (a >= 100 || v === Math.round(v)) { return String(Math.round(v)); }
    if (a >= 10) { return v.toFixed(1); }
    return v.toFixed(2);
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function fmtTime(sec) {
    var d = new Date(sec * 1000);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  var TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];

  function Line(container, opts) {
    this.container = container;
    this.opts = opts;
    this.data = {t: []};
    this.height = opts.height || 240;
    container.classList.add("plchart");
    var self = this;
    this.head = document.createElement("div");
    this.head.className = "plchart-head";
    container.appendChild(this.head);
    var title = document.createElement("div");
    title.className = "plchart-title";
    title.textContent = opts.title + (opts.unit ? " (" + opts.unit + ")" : "");
    this.head.appendChild(title);
    var legend = document.createElement("div");
    legend.className = "plchart-legend";
    opts.series.forEach(function (s) {
      var item = document.createElement("span");
      item.className = "plchart-key";
      var sw = document.createElement("i");
      sw.style.borderTopColor = s.color;
      sw.style.borderTopStyle = s.dash ? "dashed" : "solid";
      item.appendChild(sw);
      item.appendChild(document.createTextNode(s.name));
      legend.appendChild(item);
    });
    this.head.appendChild(legend);
    this.svg = el("svg", {"class": "plchart-svg", height: this.height, role: "img", "aria-label": opts.title}, container);
    this.tip = document.createElement("div");
    this.tip.className = "plchart-tip";
    this.tip.style.display = "none";
    container.appendChild(this.tip);
    this.svg.addEventListener("mousemove", function (ev) { self.hover(ev); });
    this.svg.addEventListener("mouseleave", function () { self.unhover(); });
    if (global.ResizeObserver) {
      new global.ResizeObserver(function () { self.draw(); }).observe(container);
    } else {
      global.addEventListener("resize", function () { self.draw(); });
    }
  }

  Line.prototype.update = function (data) {
    this.data = data || {t: []};
    this.draw();
  };

  Line.prototype.draw = function () {
    var svg = this.svg, opts = this.opts, data = this.data, t = data.t || [];
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var W = Math.max(this.container.clientWidth || 600, 200), H = this.height;
    svg.setAttribute("width", W);
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    var m = {l: 52, r: 14, t: 10, b: 26};
    var pw = W - m.l - m.r, ph = H - m.t - m.b;
    this.geom = null;
    if (t.length === 0) {
      var tx = el("text", {x: W / 2, y: H / 2, "text-anchor": "middle", "class": "plchart-empty"}, svg);
      tx.textContent = "no data yet";
      return;
    }
    var ymax = 0;
    opts.series.forEach(function (s) {
      (data[s.key] || []).forEach(function (v) { if (v !== null && v > ymax) { ymax = v; } });
    });
    if (opts.yMin && ymax < opts.yMin) { ymax = opts.yMin; }
    if (ymax <= 0) { ymax = 1; }
    var ystep = niceStep(ymax, 4), ytop = Math.ceil(ymax / ystep) * ystep;
    var t0 = t[0], t1 = t[t.length - 1];
    if (t1 <= t0) { t1 = t0 + 1; }
    var xs = function (v) { return m.l + (v - t0) / (t1 - t0) * pw; };
    var ys = function (v) { return m.t + ph - v / ytop * ph; };
    var g = el("g", {"class": "plchart-grid"}, svg);
    for (var y = 0; y <= ytop + ystep / 2; y += ystep) {
      el("line", {x1: m.l, x2: m.l + pw, y1: ys(y), y2: ys(y)}, g);
      var lab = el("text", {x: m.l - 6, y: ys(y) + 4, "text-anchor": "end", "class": "plchart-ylab"}, svg);
      lab.textContent = fmtNum(y);
    }
    var span = t1 - t0, tstep = TIME_STEPS[TIME_STEPS.length - 1];
    var maxTicks = Math.max(2, Math.floor(pw / 80));
    for (var i = 0; i < TIME_STEPS.length; i++) {
      if (span / TIME_STEPS[i] <= maxTicks) { tstep = TIME_STEPS[i]; break; }
    }
    for (var tt = Math.ceil(t0 / tstep) * tstep; tt <= t1; tt += tstep) {
      el("line", {x1: xs(tt), x2: xs(tt), y1: m.t + ph, y2: m.t + ph + 4, "class": "plchart-tick"}, svg);
      var anchor = xs(tt) + 26 > W ? "end" : xs(tt) - 26 < 0 ? "start" : "middle";
      var xl = el("text", {x: anchor === "end" ? W - 2 : xs(tt), y: H - 8, "text-anchor": anchor, "class": "plchart-xlab"}, svg);
      xl.textContent = fmtTime(tt);
    }
    el("line", {x1: m.l, x2: m.l + pw, y1: m.t + ph, y2: m.t + ph, "class": "plchart-axis"}, svg);
    opts.series.forEach(function (s) {
      var vals = data[s.key] || [], d = "", pen = false;
      for (var j = 0; j < t.length; j++) {
        var v = vals[j];
        if (v === null || v === undefined || isNaN(v)) { pen = false; continue; }
        d += (pen ? "L" : "M") + xs(t[j]).toFixed(1) + " " + ys(v).toFixed(1);
        pen = true;
      }
      if (d === "") { return; }
      var p = el("path", {d: d, fill: "none", stroke: s.color, "stroke-width": s.width || 2,
        "stroke-linejoin": "round", "class": "plchart-line", "data-series": s.key}, svg);
      if (s.dash) { p.setAttribute("stroke-dasharray", "6 4"); }
      if (t.length === 1) {
        el("circle", {cx: xs(t[0]), cy: ys(vals[0] || 0), r: 3, fill: s.color}, svg);
      }
    });
    this.cursor = el("line", {y1: m.t, y2: m.t + ph, "class": "plchart-cursor", visibility: "hidden"}, svg);
    this.geom = {m: m, pw: pw, t0: t0, t1: t1};
  };

  Line.prototype.hover = function (ev) {
    var gm = this.geom, t = this.data.t || [];
    if (!gm || t.length === 0) { return; }
    var rect = this.svg.getBoundingClientRect();
    var x = ev.clientX - rect.left;
    var tv = gm.t0 + (x - gm.m.l) / gm.pw * (gm.t1 - gm.t0);
    var best = 0;
    for (var i = 1; i < t.length; i++) {
      if (Math.abs(t[i] - tv) < Math.abs(t[best] - tv)) { best = i; }
    }
    var cx = gm.m.l + (t[best] - gm.t0) / (gm.t1 - gm.t0) * gm.pw;
    this.cursor.setAttribute("x1", cx);
    this.cursor.setAttribute("x2", cx);
    this.cursor.setAttribute("visibility", "visible");
    var html = "<b>" + fmtTime(t[best]) + "</b>";
    var data = this.data;
    this.opts.series.forEach(function (s) {
      var v = (data[s.key] || [])[best];
      html += "<br><i style=\"background:" + s.color + "\"></i>" + s.name + ": " + fmtNum(v);
    });
    if (data.users) { html += "<br>Users: " + data.users[best]; }
    this.tip.innerHTML = html;
    this.tip.style.display = "block";
    var left = cx + 12;
    if (left + 180 > rect.width) { left = cx - 190; }
    this.tip.style.left = left + "px";
    this.tip.style.top = (this.head.offsetHeight + 12) + "px";
  };

  Line.prototype.unhover = function () {
    this.tip.style.display = "none";
    if (this.cursor) { this.cursor.setAttribute("visibility", "hidden"); }
  };

  global.PLChart = {
    line: function (container, opts) { return new Line(container, opts); },
    fmtNum: fmtNum,
    fmtTime: fmtTime
  };
})(window);
