// Shared by the energy pages (issue 16): numbers and names in the page's language, the analytics
// API's answers and refusals, and three small SVG charts drawn by hand (no library): bars
// (stacked, signed, some marked estimated), lines (actual against predicted, with a date marked)
// and horizontal shares. Charts redraw when the window changes size.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var EN = (window.EN = {});
  // What the server put in the page for its script: the buildings and meters by name, ...
  var pageData = document.getElementById("en-page");
  try {
    EN.page = JSON.parse(pageData ? pageData.textContent : "{}") || {};
  } catch (e) {
    EN.page = {};
  }

  // --- words and numbers -----------------------------------------------------------------------
  EN.CARRIER = {
    electricity: _("Electricity"),
    natural_gas: _("Natural gas"),
    diesel: _("Diesel"),
    gasoline: _("Gasoline"),
    lpg: _("LPG"),
    raw_coal: _("Raw coal"),
    heat: _("Heat"),
    water: _("Water"),
  };
  EN.SUB_ITEM = {
    "01A00": _("Lighting and sockets"),
    "01B00": _("HVAC"),
    "01C00": _("Power"),
    "01D00": _("Special"),
  };
  EN.UNIT = { m3: "m³", m2: "m²", kgco2e: "kgCO₂e", tco2e: "tCO₂e" };
  EN.unit = function (u) {
    return EN.UNIT[u] || u || "";
  };
  EN.carrier = function (c) {
    return EN.CARRIER[c] || c;
  };
  EN.subItem = function (code) {
    if (!code) return _("Unmetered remainder");
    return EN.SUB_ITEM[code] || code;
  };
  // A figure with a sensible number of digits for its size; "–" when there is none.
  // kg to tonnes; null (nothing known) stays null rather than becoming 0.
  EN.tonnes = function (kg) { return kg === null || kg === undefined ? null : kg / 1000; };
  EN.num = function (x, digits) {
    if (x === null || x === undefined || Number.isNaN(Number(x))) return "–";
    var a = Math.abs(Number(x));
    var d = digits !== undefined ? digits : a >= 1000 || a === 0 ? 0 : a >= 100 ? 1 : a >= 1 ? 2 : 3;
    // No "-0.0": what rounds to zero is zero.
    return UI.number(a < 0.5 * Math.pow(10, -d) ? 0 : Number(x), d);
  };
  EN.pct = function (x, digits) {
    if (x === null || x === undefined) return "–";
    return _("{n} %", { n: EN.num(x, digits === undefined ? 1 : digits) });
  };
  // A share (0..1) as a percentage.
  EN.share = function (x) {
    return x === null || x === undefined ? "–" : EN.pct(100 * x);
  };
  EN.name = function (obj) {
    return UI.name(obj, "name") || (obj && obj.id) || "";
  };
  EN.monthName = function (m, short) {
    var d = new Date(Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5, 7)) - 1, 15));
    // short: the month alone ("Jan"); "year": short with the year ("Jan 2026"); else "January 2026".
    var opts = short === "year" ? { year: "numeric", month: "short", timeZone: "UTC" } : short ? { month: "short", timeZone: "UTC" } : { year: "numeric", month: "long", timeZone: "UTC" };
    return new Intl.DateTimeFormat(UI.zh ? "zh-CN" : "en-GB", opts).format(d);
  };
  EN.shiftMonth = function (m, by) {
    var y = Number(m.slice(0, 4)), mo = Number(m.slice(5, 7)) - 1 + by;
    y += Math.floor(mo / 12);
    mo = ((mo % 12) + 12) % 12;
    return y + "-" + String(mo + 1).padStart(2, "0");
  };
  // Today's month in the site's time zone, "YYYY-MM".
  EN.thisMonth = function () {
    return UI.date(new Date()).slice(0, 7);
  };
  EN.param = function (name, pattern) {
    var v = new URLSearchParams(location.search).get(name) || "";
    return pattern.test(v) ? v : null;
  };
  // Keep the page's choices in its address, so a reload or a shared link shows the same.
  EN.keep = function (params) {
    var q = new URLSearchParams(location.search);
    Object.keys(params).forEach(function (k) {
      if (params[k] === null || params[k] === "" || params[k] === undefined) q["delete"](k);
      else q.set(k, params[k]);
    });
    var s = q.toString();
    history.replaceState(null, "", location.pathname + (s ? "?" + s : ""));
  };

  // --- the API ---------------------------------------------------------------------------------
  // Why a read or a change was refused, in the page's language, with the server's words as data.
  EN.why = function (res) {
    if (!res || res.status === 0) return _("No network: the figures cannot be loaded.");
    var d = res.data || {};
    var msg = d.message || (typeof d.detail === "string" ? d.detail : "");
    if (res.status === 403) return _("Not allowed for your role.");
    if (res.status === 404) return msg || _("Not found.");
    return msg ? _("Refused ({status}): {why}", { status: res.status, why: msg }) : _("The figures cannot be loaded ({status}).", { status: res.status });
  };
  // The rows a refused import or entry names ("row 3: ..."), from the error's detail.
  EN.rowErrors = function (res) {
    var d = (res && res.data) || {};
    var det = d.detail;
    var rows = det && (det.rows || det.errors) ? det.rows || det.errors : Array.isArray(det) ? det : [];
    return rows.map(function (r) {
      if (typeof r === "string") return r;
      if (r && r.row !== undefined) return _("row {n}: {why}", { n: r.row, why: r.reason || r.message || r.msg || "" });
      if (r && r.msg) return (r.loc ? r.loc.join(".") + ": " : "") + r.msg;
      return JSON.stringify(r);
    });
  };
  // One request straight to the network, as the office's other pages send (office/office.js):
  // {ok, status, data}; status 0 when the network is down.
  EN.send = function (method, url, body) {
    return Office.send(method, url, body);
  };
  EN.get = function (url) {
    return EN.send("GET", url);
  };
  EN.loaded = function () {
    document.body.dataset.loaded = "1";
  };

  // --- SVG -------------------------------------------------------------------------------------
  function make(tag, attrs, text) {
    var n = document.createElementNS(NS, tag);
    for (var k in attrs || {}) if (attrs[k] !== null && attrs[k] !== undefined) n.setAttribute(k, attrs[k]);
    if (text !== undefined) n.textContent = text;
    return n;
  }
  EN.svg = make;
  // A round step for about n ticks over span: 1, 2 or 5 times a power of ten.
  function step(span, n) {
    if (!(span > 0)) return 1;
    var raw = span / n;
    var mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
  }
  function tickLabel(v, s) {
    var digits = s >= 1 ? 0 : Math.min(3, Math.ceil(-Math.log10(s)));
    return UI.number(v, digits);
  }
  function width(svg) {
    return Math.max(300, Math.round(svg.clientWidth || (svg.parentNode && svg.parentNode.clientWidth) || 640));
  }
  function start(svg, H) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var W = width(svg);
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("height", H);
    svg.setAttribute("role", "img");
    return W;
  }
  // The hatching that marks what is estimated (defined once per chart).
  function hatch(svg) {
    var defs = make("defs");
    var p = make("pattern", { id: svg.id + "-hatch", width: 8, height: 8, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" });
    p.appendChild(make("rect", { width: 8, height: 8, class: "ch-hatch-bg" }));
    p.appendChild(make("line", { x1: 0, y1: 0, x2: 0, y2: 8, class: "ch-hatch-line" }));
    defs.appendChild(p);
    svg.appendChild(defs);
    return "url(#" + svg.id + "-hatch)";
  }
  function yAxis(svg, lo, hi, ys, L, R, W, y, unit) {
    var g = make("g", { class: "ch-grid" });
    for (var v = lo; v <= hi + ys / 2; v += ys) {
      g.appendChild(make("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: Math.abs(v) < ys / 2 ? "ch-zero" : null }));
      g.appendChild(make("text", { x: L - 8, y: y(v) + 5, "text-anchor": "end" }, tickLabel(v, ys)));
    }
    if (unit) g.appendChild(make("text", { x: 4, y: 18, "text-anchor": "start", class: "ch-unit" }, unit));
    svg.appendChild(g);
  }
  // The left margin the y axis' labels need (about 9 px a character at 16 px).
  function leftFor(lo, hi, ys) {
    var longest = 0;
    for (var v = lo; v <= hi + ys / 2; v += ys) longest = Math.max(longest, tickLabel(v, ys).length);
    return Math.max(48, 16 + 9 * longest);
  }
  function range(vals) {
    var lo = Math.min(0, Math.min.apply(null, vals)), hi = Math.max(0, Math.max.apply(null, vals));
    if (hi === lo) hi = lo + 1;
    var ys = step(hi - lo, 4);
    return { lo: Math.floor(lo / ys) * ys, hi: Math.ceil((hi + (hi - lo) * 0.04) / ys) * ys, step: ys };
  }

  // Bars, one per label, each the sum of its series (stacked); values may be negative (drawn
  // below zero) or null (no bar). o: {labels: [..], series: [{key, label, values: [..]}],
  // estimated: [bool per bar] (hatched), unit, height, every (label every nth), title(i)}.
  EN.bars = function (svg, o) {
    var H = o.height || 300;
    var W = start(svg, H);
    var L, R = 12, T = 30, B = 40;
    var n = o.labels.length;
    var tops = [], bottoms = [];
    for (var i = 0; i < n; i++) {
      var up = 0, down = 0;
      o.series.forEach(function (s) {
        var v = s.values[i];
        if (v > 0) up += v;
        else if (v < 0) down += v;
      });
      tops.push(up);
      bottoms.push(down);
    }
    var any = o.series.some(function (s) { return s.values.some(function (v) { return v !== null && v !== undefined; }); }) || (o.unknown || []).some(Boolean);
    if (!n || !any) {
      svg.appendChild(make("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "ch-empty" }, o.empty || _("No figures for this period.")));
      return;
    }
    var r = range(tops.concat(bottoms));
    L = leftFor(r.lo, r.hi, r.step);
    function y(v) { return T + (1 - (v - r.lo) / (r.hi - r.lo)) * (H - T - B); }
    yAxis(svg, r.lo, r.hi, r.step, L, R, W, y, o.unit);
    var fill = o.estimated ? hatch(svg) : null;
    var slot = (W - L - R) / n;
    var bw = Math.max(2, Math.min(48, slot * 0.72));
    var every = o.every || Math.max(1, Math.ceil(n / Math.floor((W - L - R) / 56)));
    var g = make("g", { class: "ch-bars" });
    for (i = 0; i < n; i++) {
      var x0 = L + slot * i + (slot - bw) / 2;
      var upAt = 0, downAt = 0;
      var est = o.estimated && o.estimated[i];
      var bar = make("g", { class: "ch-bar" + (est ? " estimated" : ""), "data-i": i });
      if (o.title) bar.appendChild(make("title", {}, o.title(i)));
      o.series.forEach(function (s, k) {
        var v = s.values[i];
        if (v === null || v === undefined || v === 0) return;
        var a = v > 0 ? upAt : downAt, b = a + v;
        if (v > 0) upAt = b;
        else downAt = b;
        bar.appendChild(make("rect", {
          x: x0.toFixed(1), width: bw.toFixed(1),
          y: Math.min(y(a), y(b)).toFixed(1), height: Math.max(1, Math.abs(y(a) - y(b))).toFixed(1),
          class: "ch-s" + (s.cls !== undefined ? s.cls : k) + (v < 0 ? " neg" : ""),
        }));
      });
      if (est) {
        bar.appendChild(make("rect", {
          x: x0.toFixed(1), width: bw.toFixed(1), y: y(Math.max(upAt, 0)).toFixed(1),
          height: Math.max(1, y(Math.min(downAt, 0)) - y(Math.max(upAt, 0))).toFixed(1),
          fill: fill, class: "ch-est",
        }));
      }
      if (o.unknown && o.unknown[i]) {
        // Nothing to draw: a sub-meter has no reading at all that day. Say so where the bar would be.
        bar.setAttribute("class", "ch-bar unknown");
        bar.appendChild(make("rect", { x: x0.toFixed(1), width: bw.toFixed(1), y: T, height: H - T - B, class: "ch-unknown" }));
        bar.appendChild(make("text", { x: (x0 + bw / 2).toFixed(1), y: y(0) - 6, "text-anchor": "middle", class: "ch-unknown-mark" }, "?"));
      }
      g.appendChild(bar);
      if (i % every === 0) {
        svg.appendChild(make("text", { x: (x0 + bw / 2).toFixed(1), y: H - B + 24, "text-anchor": "middle", class: "ch-x" }, o.labels[i]));
      }
    }
    svg.appendChild(g);
  };

  // Lines over days. o: {days: ["YYYY-MM-DD"...], series: [{key, label, values, cls}], mark:
  // {day, label}, shade: {from, to} (days, drawn behind), unit, height}.
  EN.lines = function (svg, o) {
    var H = o.height || 320;
    var W = start(svg, H);
    var L, R = 16, T = 30, B = 40;
    var n = o.days.length;
    var vals = [];
    o.series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null && v !== undefined) vals.push(v); }); });
    if (!n || !vals.length) {
      svg.appendChild(make("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "ch-empty" }, o.empty || _("No figures for this period.")));
      return;
    }
    var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals);
    lo = Math.min(0, lo);
    if (hi === lo) hi = lo + 1;
    var ys = step(hi - lo, 4);
    lo = Math.floor(lo / ys) * ys;
    hi = Math.ceil((hi + (hi - lo) * 0.04) / ys) * ys;
    L = leftFor(lo, hi, ys);
    var t0 = Date.parse(o.days[0]), t1 = Date.parse(o.days[n - 1]);
    if (t1 === t0) t1 = t0 + 86400000;
    function x(day) { return L + ((Date.parse(day) - t0) / (t1 - t0)) * (W - L - R); }
    function y(v) { return T + (1 - (v - lo) / (hi - lo)) * (H - T - B); }
    if (o.shade) {
      var a = Math.max(L, x(o.shade.from)), b = Math.min(W - R, x(o.shade.to));
      if (b > a) svg.appendChild(make("rect", { x: a, y: T, width: b - a, height: H - T - B, class: "ch-shade" }));
    }
    yAxis(svg, lo, hi, ys, L, R, W, y, o.unit);
    // A tick on the first of each month (every second or third one when narrow).
    var months = o.days.filter(function (d) { return d.slice(8) === "01"; });
    var room = Math.floor((W - L - R) / 64);
    var every = Math.max(1, Math.ceil(months.length / Math.max(1, room)));
    var g = make("g", { class: "ch-grid" });
    months.forEach(function (d, k) {
      if (k % every) return;
      g.appendChild(make("line", { x1: x(d), x2: x(d), y1: T, y2: H - B, class: "ch-v" }));
      g.appendChild(make("text", { x: x(d), y: H - B + 24, "text-anchor": "middle" }, EN.monthName(d.slice(0, 7), true)));
    });
    svg.appendChild(g);
    o.series.forEach(function (s, k) {
      var d = "", joined = false;
      for (var i = 0; i < n; i++) {
        var v = s.values[i];
        if (v === null || v === undefined) { joined = false; continue; }
        d += (joined ? "L" : "M") + x(o.days[i]).toFixed(1) + " " + y(v).toFixed(1);
        joined = true;
      }
      svg.appendChild(make("path", { d: d, class: "ch-l" + (s.cls !== undefined ? s.cls : k), "data-series": s.key }));
    });
    if (o.mark) {
      var mx = x(o.mark.day);
      svg.appendChild(make("line", { x1: mx, x2: mx, y1: T - 6, y2: H - B, class: "ch-mark" }));
      var right = mx > W - 200;
      svg.appendChild(make("text", { x: right ? mx - 8 : mx + 8, y: T + 12, "text-anchor": right ? "end" : "start", class: "ch-mark-label" }, o.mark.label));
    }
  };

  // Horizontal bars of shares, in HTML so long labels wrap. o: {rows: [{key, label, value, text,
  // cls}]}: each row's bar as long as its value against the largest; text says what it is.
  EN.hbars = function (node, o) {
    var max = Math.max.apply(null, o.rows.map(function (r) { return Math.abs(r.value || 0); }).concat([1e-9]));
    UI.add(UI.clear(node), o.rows.map(function (r, i) {
      var bar = UI.el("span.hb-bar.ch-s" + (r.cls !== undefined ? r.cls : i) + (r.value < 0 ? ".neg" : ""));
      bar.style.width = ((100 * Math.abs(r.value || 0)) / max).toFixed(1) + "%";  // CSSOM: allowed by the CSP
      return UI.el("li.hb-row", { dataset: { key: r.key } }, [
        UI.el("span.hb-label", { text: r.label }),
        UI.el("span.hb-track", { "aria-hidden": "true" }, bar),
        UI.el("span.hb-text.data", { text: r.text }),
      ]);
    }));
  };

  // Redraw the page's charts when the window's width changes (a tablet turned round).
  var redraws = [];
  EN.onResize = function (fn) {
    redraws.push(fn);
  };
  var lastW = window.innerWidth, timer = null;
  window.addEventListener("resize", function () {
    if (window.innerWidth === lastW) return;
    lastW = window.innerWidth;
    clearTimeout(timer);
    timer = setTimeout(function () { redraws.forEach(function (fn) { fn(); }); }, 150);
  });

  // A legend: a swatch and a label per series.
  EN.legend = function (node, series) {
    UI.clear(node);
    series.forEach(function (s, k) {
      UI.add(node, UI.el("li", null, [UI.el("span.sw.sw-" + (s.cls !== undefined ? s.cls : k), { "aria-hidden": "true" }), s.label]));
    });
  };
})();
