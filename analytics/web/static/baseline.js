// A meter's baseline (/ui/energy/baselines/{meter}) from GET /api/v1/analytics/baselines/{meter}:
// the model and its parameters, CV(RMSE) and NMBE against ASHRAE Guideline 14's limits with pass
// or fail, actual against predicted day by day (the retrofit's date marked, the baseline period
// shaded), and a retrofit's savings with their uncertainty at 90 % confidence, month by month.
(function () {
  "use strict";
  var $ = UI.$, el = UI.el;
  var meter = EN.page.meter;
  var retrofits = EN.page.retrofits || [];
  var retrofit = EN.param("retrofit", /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/);
  if (retrofit === null && retrofits.length && new URLSearchParams(location.search).get("retrofit") === null) retrofit = retrofits[0].id;
  if (retrofit && !retrofits.some(function (r) { return r.id === retrofit; })) retrofit = "";
  $("bl-retrofit").value = retrofit || "";
  var MODEL = {
    degree_day: _("Change-point regression on degree-days (daily)"),
    hour_of_week: _("Hour-of-week model (hourly)"),
  };
  // The degree-day model's parameters per kind of day, with their units ("u": the meter's).
  var PARAM = [
    ["intercept", _("Base load per day"), "u/d"],
    ["heating_balance_c", _("Heating balance point"), "°C"],
    ["heating_slope", _("Per heating degree-day"), "u/K·d"],
    ["cooling_balance_c", _("Cooling balance point"), "°C"],
    ["cooling_slope", _("Per cooling degree-day"), "u/K·d"],
    ["r2_adj", _("Adjusted R²"), ""],
    ["n", _("Days"), ""],
  ];

  $("bl-meter").addEventListener("change", function () {
    location.href = "/ui/energy/baselines/" + encodeURIComponent($("bl-meter").value);
  });
  $("bl-retrofit").addEventListener("change", function () {
    retrofit = $("bl-retrofit").value;
    EN.keep({ retrofit: retrofit || "none" });
    load();
  });

  function verdict(node, meets) {
    node.className = "chip " + (meets ? "ok" : "bad");
    node.textContent = meets ? _("meets Guideline 14") : _("outside Guideline 14's limits");
  }
  function metricRow(label, m, n) {
    var lim = m.limits || {};
    var cvOk = m.cv_rmse !== null && m.cv_rmse !== undefined && m.cv_rmse <= lim.cv_rmse;
    var nmOk = m.nmbe !== null && m.nmbe !== undefined && Math.abs(m.nmbe) <= lim.nmbe;
    return el("tr", { dataset: { resolution: label.key } }, [
      el("th", { scope: "row", text: label.text + (n ? " · " + _("n = {n}", { n: n }) : "") }),
      el("td.n" + (cvOk ? ".pass" : ".fail"), { text: EN.pct(m.cv_rmse) }),
      el("td.n.muted", { text: "≤ " + EN.pct(lim.cv_rmse, 0) }),
      el("td.n" + (nmOk ? ".pass" : ".fail"), { text: EN.pct(m.nmbe) }),
      el("td.n.muted", { text: "± " + EN.pct(lim.nmbe, 0) }),
      el("td", null, el("span.chip." + (m.meets ? "ok" : "bad"), { text: m.meets ? _("pass") : _("fail") })),
    ]);
  }
  function fig(label, value, sub, cls) {
    return el("div.en-fig" + (cls || ""), null, [el("span.en-fig-label", { text: label }), el("span.en-fig-n.data", { text: value }), sub ? el("span.en-fig-sub", { text: sub }) : null]);
  }
  // Degree-day: a table of each kind of day's parameters (a term the fit dropped shows "–").
  // Hour-of-week: the 168 hourly means as bars, Monday 00:00 first.
  function drawParams(model, unit) {
    var p = model.params || {};
    var table = $("model-params"), how = $("model-how");
    table.hidden = model.type !== "degree_day";
    how.hidden = model.type !== "hour_of_week";
    howRedraw = null;
    if (model.type === "degree_day") {
      var segs = [["workday", _("Workdays")], ["day_off", _("Days off")]].filter(function (x) { return p[x[0]]; });
      if (!segs.length) segs = [["", _("Every day")]];
      UI.add(UI.clear(table.querySelector("thead tr")), [el("th", { text: _("Parameter") })].concat(segs.map(function (x) { return el("th.n", { text: x[1] }); })));
      UI.add(UI.clear(table.querySelector("tbody")), PARAM.map(function (row) {
        var u = row[2] ? " " + row[2].replace("u", EN.unit(unit)) : "";
        return el("tr", { dataset: { param: row[0] } }, [el("th", { scope: "row", text: row[1] })].concat(segs.map(function (x) {
          var v = (x[0] ? p[x[0]] : p)[row[0]];
          var text = v === null || v === undefined ? "–" : row[0] === "n" ? EN.num(v, 0) : row[0] === "r2_adj" ? EN.num(v, 3) : EN.num(v) + u;
          return el("td.n", { text: text });
        })));
      }));
    } else if (model.type === "hour_of_week") {
      var means = p.hour_of_week_means || [];
      var days = [];
      for (var i = 0; i < 7; i++) days.push(new Intl.DateTimeFormat(UI.zh ? "zh-CN" : "en-GB", { weekday: "short", timeZone: "UTC" }).format(new Date(Date.UTC(2026, 0, 5 + i))));
      howRedraw = function () {
        EN.bars($("how-chart"), {
          labels: means.map(function (_m, h) { return h % 24 === 0 ? days[h / 24] : ""; }),
          series: [{ key: "mean", values: means, cls: "act" }],
          every: 1,
          unit: EN.unit(unit) + " / " + _("hour"),
          height: 220,
          title: function (h) { return days[Math.floor(h / 24)] + " " + String(h % 24).padStart(2, "0") + ":00 · " + EN.num(means[h]); },
        });
      };
      howRedraw();
    }
  }
  var howRedraw = null;
  EN.onResize(function () { if (howRedraw) howRedraw(); });

  function draw(d) {
    var unit = (d.savings && d.savings.unit) || d.unit || (d.meter && d.meter.unit) || "";
    var fit = d.fit, mon = d.monthly;
    verdict($("fit-verdict"), fit.meets && (!mon || mon.meets));
    var res = fit.resolution === "hourly" || d.model.type === "hour_of_week" ? { key: "hourly", text: _("Hourly") } : { key: "daily", text: _("Daily") };
    UI.add(UI.clear(document.querySelector("#fit-table tbody")), [
      metricRow(res, fit, fit.n || (d.model && d.model.n)),
      mon ? metricRow({ key: "monthly", text: _("Monthly") }, mon, mon.n) : null,
    ]);

    var facts = [
      [_("Model"), MODEL[d.model.type] || d.model.type],
      [_("Baseline period"), d.baseline ? d.baseline.from + " – " + d.baseline.to : "–"],
      [_("Observations (n)"), EN.num(d.model.n, 0)],
      [_("Parameters (p)"), EN.num(d.model.p, 0)],
    ];
    UI.add(UI.clear($("model-facts")), facts.map(function (f) {
      return el("div", null, [el("dt", { text: f[0] }), el("dd.data", { text: f[1] })]);
    }));
    drawParams(d.model, unit);
    var s = d.savings;
    $("savings").hidden = !s;
    $("baseline").classList.toggle("no-savings", !s);
    if (s) {
      var r = d.retrofit || {};
      $("sv-retrofit").textContent = (UI.name(r, "name") || r.id || "") + (r.date ? " · " + r.date : "");
      var rep = r.reporting;
      var unc = s.uncertainty;
      UI.add(UI.clear($("sv-figs")), [
        fig(_("Energy saved"), EN.num(s.amount) + " " + EN.unit(s.unit || unit), unc !== null && unc !== undefined ? _("± {u} at {c} confidence", { u: EN.num(unc) + " " + EN.unit(s.unit || unit), c: EN.pct(100 * (s.confidence || 0.9), 0) }) : "", ".en-fig-good"),
        fig(_("Saved share"), EN.pct(s.percent), _("of what the baseline predicts")),
      ]);
      var meaningful = unc === null || unc === undefined || Math.abs(s.amount) > unc;
      $("sv-period").textContent = _("Reporting period {from} – {to}: {n} days, autocorrelation {r}.", {
        from: rep ? rep.from : "–", to: rep ? rep.to : "–", n: EN.num(s.n, 0), r: EN.num(s.autocorrelation, 2),
      });
      $("sv-words").textContent = meaningful
        ? _("The savings are larger than their uncertainty: the retrofit made a measurable difference.")
        : _("The savings are within their uncertainty: not yet distinguishable from the model's error.");
      $("sv-caption").textContent = _("Month by month, in {unit}", { unit: EN.unit(s.unit || unit) });
      UI.add(UI.clear(document.querySelector("#sv-months tbody")), (s.months || []).map(function (m) {
        return el("tr", { dataset: { month: m.month } }, [
          el("td.nowrap", { text: EN.monthName(m.month, "year") }),
          el("td.n", { text: EN.num(m.predicted) }),
          el("td.n", { text: EN.num(m.actual) }),
          el("td.n", { text: EN.num(m.saved) }),
          el("td.n", { text: m.predicted ? EN.pct((100 * m.saved) / m.predicted) : "–" }),
        ]);
      }));
    }

    var series = d.series || [];
    var days = series.map(function (x) { return x.day; });
    var lines = [
      { key: "actual", label: _("Actual"), values: series.map(function (x) { return x.actual; }), cls: "act" },
      { key: "predicted", label: _("Predicted by the baseline"), values: series.map(function (x) { return x.predicted; }), cls: "pred" },
    ];
    EN.legend($("series-legend"), lines.concat(d.baseline ? [{ label: _("Baseline period"), cls: "shade" }] : []));
    var when = d.retrofit && d.retrofit.date;
    var chart = function () {
      EN.lines($("bl-chart"), {
        days: days,
        series: lines,
        unit: EN.unit(unit) + (days.length ? " / " + _("day") : ""),
        mark: when ? { day: when, label: _("Retrofit {date}", { date: when }) } : null,
        shade: d.baseline ? { from: d.baseline.from, to: d.baseline.to } : null,
        height: window.innerWidth > 1400 ? 360 : 300,
      });
    };
    chart();
    redraw = chart;
    $("bl-chart-cap").textContent = _("Daily consumption: what the meter measured and what the baseline model predicts for the same days' weather and calendar.");
  }
  var redraw = null;
  EN.onResize(function () { if (redraw) redraw(); });

  function load() {
    $("loading").hidden = false;
    var q = retrofit ? "?" + UI.queryString({ retrofit: retrofit }) : "";
    return EN.get("/api/v1/analytics/baselines/" + encodeURIComponent(meter) + q).then(function (res) {
      $("loading").hidden = true;
      if (!res.ok || !res.data) {
        $("baseline").hidden = true;
        $("load-error").hidden = false;
        $("load-error").textContent = EN.why(res);
        EN.loaded();
        return;
      }
      $("load-error").hidden = true;
      $("baseline").hidden = false;
      draw(res.data);
      EN.loaded();
    });
  }
  load();
})();
