// A line chart of one point's readings in SVG, drawn by hand: the line (gaps where a bucket has
// no good reading), the threshold as a dashed line, and a mark where the alert triggered.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  function make(tag, attrs, text) {
    var n = document.createElementNS(NS, tag);
    for (var k in attrs) n.setAttribute(k, attrs[k]);
    if (text !== undefined) n.textContent = text;
    return n;
  }
  // A round step for about n ticks over span: 1, 2 or 5 times a power of ten.
  function step(span, n) {
    var raw = span / n;
    var mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
  }
  function label(v, s) {
    var digits = s >= 1 ? 0 : Math.min(3, Math.ceil(-Math.log10(s)));
    return v.toFixed(digits);
  }

  // o: {points: [{ts, value}], from, to (ms), threshold, mark (ms), unit, timeLabel(ms), empty,
  //     timeStep (ms), tzOffset (ms)}
  function draw(svg, o) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var W = Math.max(320, Math.round(svg.clientWidth || svg.parentNode.clientWidth || 640));
    var H = 280;
    var L = 64, R = 20, T = 36, B = 40;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("height", H);
    var pts = (o.points || [])
      .map(function (p) { return { t: new Date(p.ts).getTime(), v: p.value }; })
      .filter(function (p) { return p.t >= o.from && p.t <= o.to; })
      .sort(function (a, b) { return a.t - b.t; });
    var vals = pts.filter(function (p) { return p.v !== null && p.v !== undefined; }).map(function (p) { return p.v; });
    if (o.threshold !== null && o.threshold !== undefined) vals.push(o.threshold);
    if (!vals.length) {
      svg.appendChild(make("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "ch-empty" }, o.empty || ""));
      return svg;
    }
    var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals);
    if (hi === lo) { hi += 1; lo -= 1; }
    var pad = (hi - lo) * 0.12;
    lo -= pad; hi += pad;
    var ys = step(hi - lo, 4);
    lo = Math.floor(lo / ys) * ys; hi = Math.ceil(hi / ys) * ys;
    function x(t) { return L + ((t - o.from) / (o.to - o.from)) * (W - L - R); }
    function y(v) { return T + (1 - (v - lo) / (hi - lo)) * (H - T - B); }

    var grid = make("g", { class: "ch-grid" });
    for (var v = lo; v <= hi + ys / 2; v += ys) {
      grid.appendChild(make("line", { x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      grid.appendChild(make("text", { x: L - 8, y: y(v) + 5, "text-anchor": "end" }, label(v, ys)));
    }
    var span = o.to - o.from;
    // o.timeStep (ms) overrides the tick spacing; o.tzOffset (ms the site's clock is ahead of
    // UTC) puts the ticks on the site's round hours and midnights.
    var ts = o.timeStep || step(span / 60000, W > 600 ? 6 : 4) * 60000;
    var off = o.tzOffset || 0;
    for (var t = Math.ceil((o.from + off) / ts) * ts - off; t <= o.to; t += ts) {
      grid.appendChild(make("line", { x1: x(t), x2: x(t), y1: T, y2: H - B, class: "ch-v" }));
      grid.appendChild(make("text", { x: x(t), y: H - B + 24, "text-anchor": "middle" }, o.timeLabel ? o.timeLabel(t) : ""));
    }
    if (o.unit) grid.appendChild(make("text", { x: 8, y: 18, "text-anchor": "start", class: "ch-unit" }, o.unit));
    svg.appendChild(grid);

    if (o.threshold !== null && o.threshold !== undefined) {
      svg.appendChild(make("line", { x1: L, x2: W - R, y1: y(o.threshold), y2: y(o.threshold), class: "ch-thr" }));
      svg.appendChild(make("text", { x: L + 8, y: y(o.threshold) - 8, "text-anchor": "start", class: "ch-thr-label" }, o.thresholdLabel || ""));
    }
    if (o.mark) {
      svg.appendChild(make("line", { x1: x(o.mark), x2: x(o.mark), y1: T, y2: H - B, class: "ch-mark" }));
    }
    // A gap in the line where readings stop for a while: more than three times the usual
    // spacing of readings (buckets narrower than the polling interval are often empty).
    var good = pts.filter(function (p) { return p.v !== null && p.v !== undefined; });
    var gaps = good.slice(1).map(function (p, i) { return p.t - good[i].t; }).sort(function (a, b) { return a - b; });
    var usual = gaps.length ? gaps[Math.floor(gaps.length / 2)] : 0;
    var d = "", last = null, n = 0;
    good.forEach(function (p) {
      var joined = last !== null && p.t - last <= 3 * usual;
      d += (joined ? "L" : "M") + x(p.t).toFixed(1) + " " + y(p.v).toFixed(1);
      last = p.t;
      n++;
    });
    if (n === 1) d += "h2";
    svg.appendChild(make("path", { d: d, class: "ch-line", "data-points": String(n) }));
    if (!n) svg.appendChild(make("text", { x: (L + W - R) / 2, y: T + 30, "text-anchor": "middle", class: "ch-empty" }, o.empty || ""));
    return svg;
  }
  window.PRChart = { draw: draw };
})();
