// The capital plan (/ui/capital-plan) from GET /api/v1/analytics/capital-plan: the replacement
// cost by year of the five-year horizon (bars; choosing one lists only its assets) and the
// assets ranked, each with its year, cost, reasons and the evidence behind them.
(function () {
  "use strict";
  var $ = UI.$, el = UI.el;
  var year = EN.param("year", /^\d{4}$/);
  var data = null;

  function drawYears(d) {
    var horizon = d.horizon || [];
    var totals = d.total_by_year || {};
    EN.bars($("years-chart"), {
      labels: horizon.map(String),
      series: [{ key: "cost", label: _("Cost"), cls: 0, values: horizon.map(function (y) { return totals[y] || totals[String(y)] || 0; }) }],
      unit: "¥",
      height: 280,
      every: 1,
      title: function (i) { return horizon[i] + ": " + AG.money(totals[horizon[i]] || 0); },
      empty: _("Nothing to replace in these years."),
    });
    $("years-chart").querySelectorAll("g.ch-bar").forEach(function (g) {
      var y = String(horizon[Number(g.dataset.i)]);
      g.setAttribute("data-year", y);
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "button");
      g.classList.toggle("on", y === year);
      function pick() { year = year === y ? null : y; EN.keep({ year: year }); drawItems(data); drawYears(data); }
      g.addEventListener("click", pick);
      g.addEventListener("keydown", function (ev) { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); pick(); } });
    });
  }

  function drawTotals(d) {
    var items = d.items || [];
    var total = 0;
    items.forEach(function (it) { total += it.cost || 0; });
    var fig = function (key, label, n, sub) {
      return el("div.en-fig", { dataset: { figure: key } }, [el("span.en-fig-label", { text: label }), el("span.en-fig-n.data", { text: n }), sub ? el("span.en-fig-sub", { text: sub }) : null]);
    };
    var rising = items.filter(function (it) { return (it.reasons || []).indexOf("rising_failures") >= 0; }).length;
    UI.add(UI.clear($("totals")), [
      fig("total", _("Replacements"), AG.money(total), _("{n} assets", { n: items.length })),
      fig("rising", _("Failing more often"), String(rising), _("β's lower bound above 1")),
    ]);
    UI.add(UI.clear($("reasons-key")), Object.keys(AG.REASON).map(function (k) {
      var n = items.filter(function (it) { return (it.reasons || []).indexOf(k) >= 0; }).length;
      return el("li", { dataset: { reason: k } }, [el("span.chip.ag-r-" + k, { text: AG.reason(k) }), " ", el("span.data", { text: String(n) })]);
    }));
  }

  function evidence(it) {
    var e = it.evidence || {};
    var parts = [];
    if (e.age_ratio !== null && e.age_ratio !== undefined) parts.push(_("age {pct} of expected life", { pct: EN.pct(100 * e.age_ratio, 0) }));
    if (e.beta !== null && e.beta !== undefined) parts.push("β " + EN.num(e.beta, 2) + " [" + EN.num(e.beta_lower, 2) + " – " + EN.num(e.beta_upper, 2) + "]");
    if (e.cost_ratio !== null && e.cost_ratio !== undefined) parts.push(_("repairs {pct} of replacement", { pct: EN.pct(100 * e.cost_ratio, 0) }));
    if (e.criticality) parts.push(_("criticality: {c}", { c: AG.CRITICALITY[e.criticality] || e.criticality }));
    return parts;
  }

  function drawItems(d) {
    var items = (d.items || []).filter(function (it) { return !year || String(it.recommended_year) === year; });
    $("items-filter").textContent = year ? "· " + year : "";
    $("items-empty").hidden = items.length > 0;
    UI.add(UI.clear(document.querySelector("#items tbody")), items.map(function (it) {
      var a = it.asset || {};
      return el("tr", { dataset: { asset: a.id, rank: it.rank } }, [
        el("td.n.ag-rank", { text: String(it.rank) }),
        el("th", { scope: "row" }, [
          el("a", { href: "/ui/assets/" + encodeURIComponent(a.id) + "/health", text: EN.name(a) }),
          el("span.en-source", { text: [AG.building(a.building), a["class"]].filter(Boolean).join(" · ") }),
        ]),
        el("td.n", { text: String(it.recommended_year) }),
        el("td.n", { text: AG.money(it.cost) }),
        el("td.ag-why", null, [
          el("ul.ag-reasons", null, (it.reasons || []).map(function (r) { return el("li.chip.ag-r-" + r, { text: AG.reason(r), dataset: { reason: r } }); })),
          el("ul.ag-evidence", null, evidence(it).map(function (t) { return el("li.data", { text: t }); })),
        ]),
      ]);
    }));
  }

  function draw(d) {
    data = d;
    var h = d.horizon || [];
    $("horizon-label").textContent = h.length ? h[0] + "–" + h[h.length - 1] : "";
    $("generated").textContent = _("Worked out {at} from the work orders and the assets' records.", { at: UI.date(d.generated_at) + " " + UI.time(d.generated_at) });
    if (year && h.map(String).indexOf(year) < 0) year = null;
    drawYears(d);
    drawTotals(d);
    drawItems(d);
    EN.onResize(function () { drawYears(d); });
  }

  EN.get("/api/v1/analytics/capital-plan").then(function (res) {
    if (AG.show(res, "plan")) draw(res.data);
    EN.loaded();
  });
})();
