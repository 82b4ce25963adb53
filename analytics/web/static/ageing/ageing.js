// Shared by the ageing pages (issue 17), on top of energy_common.js (EN): money, the flags and
// the capital plan's reasons in words, tiles and term lists.
(function () {
  "use strict";
  var el = UI.el;
  var AG = (window.AG = {});
  // Money in yuan, whole: "¥12,345"; "–" when unknown.
  AG.money = function (x) {
    return x === null || x === undefined ? "–" : "¥" + UI.number(Math.round(x), 0);
  };
  // A building's name in the page's language, from its id (the server put them in the page).
  var BUILDINGS = {};
  (EN.page.buildings || []).forEach(function (b) { BUILDINGS[b.id] = b.name; });
  AG.building = function (id) {
    return BUILDINGS[id] || id || "";
  };
  AG.REASON = {
    past_life: _("Past its expected life"),
    rising_failures: _("Failures rising (β > 1)"),
    repair_cost_75: _("Repairs above 75 % of replacement"),
    repair_cost_50: _("Repairs above 50 % of replacement"),
    critical: _("Critical to the building"),
  };
  AG.reason = function (code) {
    return AG.REASON[code] || code;
  };
  AG.FLAG = {
    past_life: _("Past its expected life"),
    rising_failures: _("Failures rising"),
    past_life_rising: _("Past its expected life and failing more often"),
    repair_cost_50: _("Repairs above 50 % of replacement"),
    repair_cost_75: _("Repairs above 75 % of replacement: replace"),
  };
  // Flags that call for replacing, in red; the others in amber.
  AG.URGENT = { past_life_rising: true, repair_cost_75: true };
  AG.flag = function (code) {
    return AG.FLAG[code] || code;
  };
  AG.TREND = {
    worsening: _("worsening"),
    improving: _("improving"),
    "no trend": _("no trend"),
  };
  AG.CRITICALITY = { low: _("low"), medium: _("medium"), high: _("high"), critical: _("critical") };
  // A chip class for a trend: red when worsening, green when improving.
  AG.trendChip = function (trend) {
    return trend === "worsening" ? "bad" : trend === "improving" ? "ok" : "";
  };
  // A figure tile as the energy page's: the number, its unit, its label, a line below.
  AG.tile = function (key, value, unit, label, sub, kind) {
    return el("div.en-tile.ag-tile" + (kind ? "." + kind : ""), { dataset: { figure: key } }, [
      el("span.en-tile-n", null, [el("span.data", { text: value }), unit ? " " : null, unit ? el("span.en-tile-unit", { text: unit }) : null]),
      el("span.en-tile-label", { text: label }),
      sub ? el("span.en-tile-sub", { text: sub }) : null,
    ]);
  };
  // A term list from [[term, value, key], ...] (a null value leaves the row out).
  AG.facts = function (node, rows) {
    UI.clear(node);
    rows.forEach(function (r) {
      if (r[1] === null || r[1] === undefined) return;
      UI.add(node, [el("dt", { text: r[0] }), el("dd.data", { text: r[1], dataset: { fact: r[2] || "" } })]);
    });
  };
  // A failure intensity per year as "1.23 /yr".
  AG.perYear = function (x) {
    return x === null || x === undefined ? "–" : _("{n} per year", { n: EN.num(x, 2) });
  };
  // A small or large number with three significant figures: 2.13 × 10⁻⁵.
  AG.sci = function (x) {
    if (x === null || x === undefined || !isFinite(x)) return "–";
    if (x === 0 || (Math.abs(x) >= 0.01 && Math.abs(x) < 1e5)) return EN.num(x, 4);
    var e = Math.floor(Math.log10(Math.abs(x)));
    var sup = String(e).replace(/-/g, "⁻").replace(/\d/g, function (c) { return "⁰¹²³⁴⁵⁶⁷⁸⁹"[Number(c)]; });
    return UI.number(x / Math.pow(10, e), 2) + " × 10" + sup;
  };
  AG.show = function (res, bodyId) {
    UI.$("loading").hidden = true;
    if (!res.ok || !res.data) {
      UI.$(bodyId).hidden = true;
      UI.$("load-error").hidden = false;
      UI.$("load-error").textContent = EN.why(res);
      EN.loaded();
      return false;
    }
    UI.$("load-error").hidden = true;
    UI.$(bodyId).hidden = false;
    return true;
  };
})();
