// An asset's health (/ui/assets/{id}/health) from GET /api/v1/analytics/assets/{id}/health: its
// age against expected life, MTBF, MTTR, availability and repair cost as tiles; its failures on a
// time line under the fitted Crow-AMSAA intensity (own SVG); β with Crow's 90 % bounds and the
// Laplace verdict; repair cost against replacement cost at 50 % and 75 %; the failures listed.
(function () {
  "use strict";
  var $ = UI.$, el = UI.el, svgEl = EN.svg;
  var assetId = EN.page.asset;
  var DAY = 86400000;

  // Per day (the fit's unit) to per year.
  function yr(x) {
    return x === null || x === undefined ? null : 365.25 * x;
  }
  function years(x) {
    return x === null || x === undefined ? "–" : EN.num(x, 1);
  }

  function drawTiles(d) {
    var a = d.asset || {}, age = d.age || {}, cost = d.cost || {}, av = d.availability;
    var ageSub = a.expected_life_years ? _("of {n} years expected", { n: EN.num(a.expected_life_years, 0) }) + (age.ratio !== null && age.ratio !== undefined ? " · " + EN.pct(100 * age.ratio, 0) : "") : _("no expected life recorded");
    UI.add(UI.clear($("tiles")), [
      AG.tile("age", years(age.years), _("years"), _("Age"), ageSub, age.ratio > 1 ? "bad" : age.ratio > 0.8 ? "warn" : ""),
      AG.tile("mtbf", EN.num(d.mtbf_days, 0), _("days"), _("MTBF"), _("{n} failures", { n: d.n_failures })),
      AG.tile("mttr", EN.num(d.mttr_hours, 1), _("hours"), _("MTTR"), _("mean time to repair")),
      AG.tile("availability", av ? EN.num(av.percent, 2) : "–", av ? "%" : "", _("Availability"), av ? UI.date(av.from) + " – " + UI.date(av.to) : _("no in-service readings")),
      AG.tile("cost_ratio", cost.ratio === null || cost.ratio === undefined ? "–" : EN.num(100 * cost.ratio, 0), "%", _("Repairs against replacement"), _("last {n} years", { n: cost.window_years }), cost.flag === "replace" ? "bad" : cost.flag === "warning" ? "warn" : "ok"),
    ]);
    UI.add(UI.clear($("flags")), (d.flags || []).map(function (f) {
      return el("li.chip." + (AG.URGENT[f] ? "bad" : "warn"), { text: AG.flag(f), dataset: { flag: f } });
    }));
  }

  // --- the time line -----------------------------------------------------------------------------
  function step(span, n) {
    var raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
  }
  function drawTimeline(d) {
    var svg = $("timeline");
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var W = Math.max(300, Math.round(svg.clientWidth || svg.parentNode.clientWidth || 640));
    var H = window.innerWidth > 1400 ? 360 : 320;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("height", H);
    svg.setAttribute("role", "img");
    var curve = d.intensity_curve || [];
    var fails = d.failures || [];
    var g0 = d.growth;
    var starts = [], ends = [Date.now()];
    if (g0 && g0.origin) starts.push(Date.parse(g0.origin));
    else if (d.asset && d.asset.install_date) starts.push(Date.parse(d.asset.install_date));
    curve.forEach(function (p) { starts.push(Date.parse(p.at)); ends.push(Date.parse(p.at)); });
    fails.forEach(function (f) { starts.push(Date.parse(f.at)); });
    if (!curve.length && !fails.length) {
      svg.appendChild(svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "ch-empty" }, _("No failures recorded.")));
      return;
    }
    var t0 = Math.min.apply(null, starts), t1 = Math.max.apply(null, ends);
    if (t1 - t0 < 30 * DAY) t0 = t1 - 30 * DAY;
    var vals = curve.map(function (p) { return p.intensity_per_year; }).filter(function (v) { return v !== null && isFinite(v); });
    // The first point of a β < 1 fit is infinite at the origin; cap the axis at the 98th point.
    vals.sort(function (a, b) { return a - b; });
    var hi = vals.length ? vals[Math.max(0, Math.floor(vals.length * 0.98) - 1)] : 1;
    hi = Math.max(hi, 0.5);
    var ys = step(hi, 4);
    hi = Math.ceil((hi * 1.08) / ys) * ys;
    var L = Math.max(48, 16 + 9 * UI.number(hi, ys >= 1 ? 0 : 1).length), R = 16, T = 30, RUG = 46, B = 40;
    var plotB = H - B - RUG;
    function x(t) { return L + ((t - t0) / (t1 - t0)) * (W - L - R); }
    function y(v) { return T + (1 - Math.min(v, hi) / hi) * (plotB - T); }
    var grid = svgEl("g", { class: "ch-grid" });
    for (var v = 0; v <= hi + ys / 2; v += ys) {
      grid.appendChild(svgEl("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: v === 0 ? "ch-zero" : null }));
      grid.appendChild(svgEl("text", { x: L - 8, y: y(v) + 5, "text-anchor": "end" }, UI.number(v, ys >= 1 ? 0 : 1)));
    }
    grid.appendChild(svgEl("text", { x: 4, y: 18, "text-anchor": "start", class: "ch-unit" }, _("failures per year")));
    // A line on each 1 January (every second or fifth when crowded).
    var y0 = new Date(t0).getUTCFullYear() + 1, y1 = new Date(t1).getUTCFullYear();
    var every = Math.max(1, Math.ceil((y1 - y0 + 1) / Math.max(1, Math.floor((W - L - R) / 70))));
    for (var yr = y0; yr <= y1; yr++) {
      if ((yr - y0) % every) continue;
      var tx = x(Date.UTC(yr, 0, 1));
      grid.appendChild(svgEl("line", { x1: tx, x2: tx, y1: T, y2: H - B, class: "ch-v" }));
      grid.appendChild(svgEl("text", { x: tx, y: H - B + 24, "text-anchor": "middle" }, String(yr)));
    }
    svg.appendChild(grid);
    // The rug: where the failures fall, below the curve.
    svg.appendChild(svgEl("rect", { x: L, y: plotB + 8, width: W - L - R, height: RUG - 14, class: "ag-rug" }));
    if (curve.length) {
      var path = "", joined = false;
      curve.forEach(function (p) {
        var iv = p.intensity_per_year;
        if (iv === null || !isFinite(iv)) { joined = false; return; }
        path += (joined ? "L" : "M") + x(Date.parse(p.at)).toFixed(1) + " " + y(iv).toFixed(1);
        joined = true;
      });
      svg.appendChild(svgEl("path", { d: path, class: "ag-curve", "data-series": "intensity" }));
    }
    var marks = svgEl("g", { class: "ag-fails" });
    var maxCost = Math.max.apply(null, fails.map(function (f) { return f.cost || 0; }).concat([1]));
    fails.forEach(function (f) {
      var fx = x(Date.parse(f.at));
      var a = svgEl("g", { class: "ag-fail", "data-wo": f.work_order });
      a.appendChild(svgEl("title", {}, UI.date(f.at) + " · #" + f.work_order + " " + (f.title || "") + " · " + AG.money(f.cost)));
      a.appendChild(svgEl("line", { x1: fx, x2: fx, y1: plotB + 10, y2: plotB + RUG - 8 }));
      a.appendChild(svgEl("circle", { cx: fx, cy: plotB + RUG / 2 + 1, r: (4 + 5 * Math.sqrt((f.cost || 0) / maxCost)).toFixed(1) }));
      marks.appendChild(a);
    });
    svg.appendChild(marks);
    var nx = x(Date.now());
    svg.appendChild(svgEl("line", { x1: nx, x2: nx, y1: T - 6, y2: H - B, class: "ch-mark" }));
    svg.appendChild(svgEl("text", { x: nx - 6, y: T - 10, "text-anchor": "end", class: "ch-mark-label" }, _("today")));
  }

  // --- the trend and the cost ---------------------------------------------------------------------
  function drawTrend(d) {
    var g = d.growth;
    $("trend-none").hidden = !!g;
    $("trend-chip").hidden = !g;
    if (!g) {
      UI.clear($("trend"));
      $("trend-note").textContent = "";
      return;
    }
    var chip = $("trend-chip");
    chip.className = "chip " + AG.trendChip(g.trend);
    chip.textContent = AG.TREND[g.trend] || g.trend;
    chip.dataset.trend = g.trend;
    AG.facts($("trend"), [
      ["β", EN.num(g.beta, 3) + " (" + _("unbiased {b}", { b: EN.num(g.beta_unbiased, 3) }) + ")", "beta"],
      [_("β, 90 % bounds (Crow)"), EN.num(g.beta_lower, 3) + " – " + EN.num(g.beta_upper, 3), "beta_bounds"],
      ["λ", AG.sci(g.lambda) + " (" + _("time in days") + ")", "lambda"],
      [_("Laplace U"), EN.num(g.laplace_u, 2) + " · " + (AG.TREND[g.trend] || g.trend), "laplace"],
      [_("Failure intensity now"), AG.perYear(yr(g.intensity_cumulative)) + " " + _("(cumulative)"), "intensity"],
      [_("90 % bounds (Fisher matrix)"), AG.perYear(yr(g.intensity_cumulative_lower)) + " – " + AG.perYear(yr(g.intensity_cumulative_upper)), "intensity_bounds"],
      [_("MTBF now (instantaneous)"), _("{n} days", { n: EN.num(g.mtbf_instantaneous, 0) }), "mtbf_inst"],
      [_("MTBF (cumulative)"), _("{n} days", { n: EN.num(g.mtbf_cumulative, 0) }), "mtbf_cum"],
    ]);
    var sure = g.beta_lower > 1 ? _("β's lower bound is above 1: failures are coming more often.") : g.beta_upper < 1 ? _("β's upper bound is below 1: failures are coming less often.") : _("β's bounds include 1: no clear change in how often it fails.");
    $("trend-note").textContent = sure + " " + _("Laplace test at 5 %, two-sided (|U| > 1.96).") + " " + _("Days counted from {date}.", { date: g.origin || "" });
  }
  function drawCost(d) {
    var c = d.cost || {};
    var chip = $("cost-chip");
    chip.hidden = !c.flag;
    chip.className = "chip " + (c.flag === "replace" ? "bad" : "warn");
    chip.textContent = c.flag === "replace" ? _("replace") : c.flag === "warning" ? _("warning") : "";
    var r = c.ratio === null || c.ratio === undefined ? 0 : c.ratio;
    var bar = $("cost-bar");
    bar.style.width = Math.min(100, 100 * r).toFixed(1) + "%";  // CSSOM: allowed by the CSP
    bar.className = "ag-gauge-bar" + (c.flag === "replace" ? " bad" : c.flag === "warning" ? " warn" : "");
    AG.facts($("cost"), [
      [_("Repairs in the last {n} years", { n: c.window_years }), AG.money(c.repair_total), "repair_total"],
      [_("Replacement cost"), AG.money(c.replacement_cost), "replacement_cost"],
      [_("Ratio"), c.ratio === null || c.ratio === undefined ? _("no replacement cost recorded") : EN.pct(100 * c.ratio, 0), "ratio"],
    ]);
  }
  function drawFailures(d) {
    var list = (d.failures || []).slice().reverse();
    $("n-failures").textContent = "· " + list.length;
    UI.add(UI.clear(document.querySelector("#failures tbody")), list.length ? list.map(function (f) {
      return el("tr", { dataset: { wo: f.work_order } }, [
        el("td.nowrap", { text: UI.date(f.at) }),
        el("td", null, el("a", { href: "/ui/workorders/" + f.work_order, text: "#" + f.work_order })),
        el("td", { text: f.title || "" }),
        el("td.n", { text: AG.money(f.cost) }),
      ]);
    }) : el("tr", null, el("td.muted", { colspan: 4, text: _("No failures recorded.") })));
  }

  function draw(d) {
    var a = d.asset || {};
    $("asset-name").textContent = EN.name(a);
    document.title = EN.name(a) + " · " + document.title;
    $("asset-where").textContent = [AG.building(a.building), a["class"], _("criticality: {c}", { c: AG.CRITICALITY[a.criticality] || a.criticality || "–" }), a.install_date ? _("installed {date}", { date: a.install_date }) : _("install date unknown"), _("replacement {cost}", { cost: AG.money(a.replacement_cost) })].filter(Boolean).join(" · ");
    drawTiles(d);
    EN.legend($("timeline-legend"), [{ label: _("Fitted failure intensity (Crow-AMSAA)"), cls: "curve" }, { label: _("A failure (the larger, the costlier)"), cls: "fail" }]);
    drawTimeline(d);
    drawTrend(d);
    drawCost(d);
    drawFailures(d);
    EN.onResize(function () { drawTimeline(d); });
  }

  $("asset-pick").addEventListener("change", function () {
    location.href = "/ui/assets/" + encodeURIComponent($("asset-pick").value) + "/health";
  });

  EN.get("/api/v1/analytics/assets/" + encodeURIComponent(assetId) + "/health").then(function (res) {
    if (AG.show(res, "health")) draw(res.data);
    EN.loaded();
  });
})();
