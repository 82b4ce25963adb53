// A month's maintenance KPIs (/ui/kpis) from GET /api/v1/analytics/kpis?month=YYYY-MM[&building=]
// [&contractor=][&class=]: MTTR, MTBF, PM compliance, planned share, backlog in crew-weeks and
// the possible-recall rate as tiles; spend by kind and planned against reactive; the counts; and
// the same by building, contractor or asset class. A contractor's page is fixed to its own firm.
(function () {
  "use strict";
  var $ = UI.$, el = UI.el;
  var MONTH = /^\d{4}-(0[1-9]|1[0-2])$/, ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
  var thisMonth = EN.thisMonth();
  var month = EN.param("month", MONTH) || EN.shiftMonth(thisMonth, -1);
  if (month > thisMonth) month = thisMonth;
  var own = EN.page.own_firm || null;
  var f = {
    building: EN.param("building", ID) || "",
    contractor: own ? String(own) : EN.param("contractor", /^\d{1,10}$/) || "",
    "class": EN.param("class", /^[A-Z][A-Za-z_]{0,79}$/) || "",
  };
  var by = "by_building";
  var data = null;
  var COUNT = {
    corrective_opened: _("Corrective opened"),
    failures: _("Failures on assets"),
    repairs: _("Repairs ended"),
    asset_days: _("Asset-days in service"),
    pm_due: _("PM due"),
    pm_on_time: _("PM done on time"),
    pm_late: _("PM done late"),
    pm_not_done: _("PM not done"),
    pm_pending: _("PM still open"),
    labor_hours: _("Labour hours"),
    planned_hours: _("Planned labour hours"),
    backlog_open: _("Open at month end"),
    backlog_hours: _("Open, estimated hours"),
    crew_size: _("Crew size"),
    recalls: _("Possible recalls"),
    recall_base: _("Failures checked for recalls"),
  };
  var SPEND = { labor: _("Labour"), parts: _("Parts"), other: _("Other") };

  // --- pickers ---------------------------------------------------------------------------------
  var sels = { building: $("f-building"), contractor: $("f-contractor"), "class": $("f-class") };
  Object.keys(sels).forEach(function (k) {
    sels[k].value = f[k];
    if (sels[k].value !== f[k]) f[k] = own && k === "contractor" ? String(own) : "";
    sels[k].addEventListener("change", function () {
      f[k] = sels[k].value;
      keep();
      load();
    });
  });
  $("month").max = thisMonth;
  function keep() {
    EN.keep({ month: month, building: f.building, contractor: own ? null : f.contractor, "class": f["class"] });
  }
  function setMonth(m) {
    if (!MONTH.test(m)) return;
    month = m > thisMonth ? thisMonth : m;
    keep();
    load();
  }
  $("month").addEventListener("change", function () { setMonth($("month").value); });
  $("month-prev").addEventListener("click", function () { setMonth(EN.shiftMonth(month, -1)); });
  $("month-next").addEventListener("click", function () { setMonth(EN.shiftMonth(month, 1)); });
  document.querySelectorAll("#by-tabs button").forEach(function (b) {
    b.addEventListener("click", function () {
      by = b.dataset.by;
      document.querySelectorAll("#by-tabs button").forEach(function (o) {
        o.classList.toggle("on", o === b);
        o.setAttribute("aria-pressed", o === b ? "true" : "false");
      });
      if (data) drawBy(data);
    });
  });

  // --- figures ---------------------------------------------------------------------------------
  function drawTiles(d) {
    UI.add(UI.clear($("tiles")), [
      AG.tile("mttr", EN.num(d.mttr_hours, 1), _("hours"), _("MTTR"), _("mean time to repair, corrective work resolved in the month")),
      AG.tile("mtbf", EN.num(d.mtbf_days, 0), _("days"), _("MTBF"), _("mean time between failures")),
      AG.tile("pm_compliance", EN.num(d.pm_compliance_percent, 0), "%", _("PM compliance"), _("PM due in the month and done on time"), d.pm_compliance_percent === null || d.pm_compliance_percent === undefined ? "" : d.pm_compliance_percent >= 90 ? "ok" : d.pm_compliance_percent >= 70 ? "warn" : "bad"),
      AG.tile("planned_share", EN.num(d.planned_share_percent, 0), "%", _("Planned maintenance"), _("share of the labour hours")),
      AG.tile("backlog", EN.num(d.backlog_crew_weeks, 1), _("crew-weeks"), _("Backlog"), _("open estimated hours over the crew's 40-hour weeks")),
      AG.tile("recall", EN.num(d.recall_rate_percent, 1), "%", _("Possible recalls"), _("corrective work again within 30 days")),
    ]);
  }
  function drawSpend(d) {
    var s = d.spend || {};
    $("spend-total").textContent = "· " + AG.money(s.total);
    EN.hbars($("spend"), { rows: ["labor", "parts", "other"].map(function (k) {
      return { key: k, label: SPEND[k], value: s[k] || 0, text: AG.money(s[k]) + " · " + EN.share(s.total ? (s[k] || 0) / s.total : null), cls: k };
    }) });
    EN.hbars($("split"), { rows: [
      { key: "planned", label: _("Planned"), value: s.planned || 0, text: AG.money(s.planned) + " · " + EN.share(s.total ? (s.planned || 0) / s.total : null), cls: "planned" },
      { key: "reactive", label: _("Reactive"), value: s.reactive || 0, text: AG.money(s.reactive) + " · " + EN.share(s.total ? (s.reactive || 0) / s.total : null), cls: "reactive" },
    ] });
  }
  function drawCounts(d) {
    var c = d.counts || {};
    AG.facts($("counts"), Object.keys(c).filter(function (k) { return typeof c[k] === "number"; }).map(function (k) {
      return [COUNT[k] || k.replace(/_/g, " "), EN.num(c[k], Number.isInteger(c[k]) ? 0 : 1), k];
    }));
  }
  // A row of by_building ({building, name}), by_contractor ({contractor, name}; null: the
  // in-house crew) or by_class ({class}).
  function rowKey(r) {
    return by === "by_building" ? r.building : by === "by_contractor" ? (r.contractor === null ? "" : String(r.contractor)) : r["class"];
  }
  function rowName(r) {
    if (by === "by_contractor" && (r.contractor === null || r.contractor === undefined)) return _("In-house crew");
    // A building in the page's language (the API names it in English).
    if (by === "by_building") {
      var b = AG.building(r.building);
      return b !== r.building ? b : r.name || b || "";
    }
    return r.name || rowKey(r) || "";
  }
  function drawBy(d) {
    var rows = d[by] || [];
    var head = [_("Building"), _("Contractor"), _("Asset class")][["by_building", "by_contractor", "by_class"].indexOf(by)];
    UI.add(UI.clear(document.querySelector("#by thead tr")), [head, "MTTR (h)", "MTBF (d)", _("PM compliance"), _("Planned share"), _("Backlog (crew-weeks)"), _("Possible recalls"), _("Spend")].map(function (t, i) {
      return el(i ? "th.n" : "th", { text: t });
    }));
    UI.add(UI.clear(document.querySelector("#by tbody")), rows.length ? rows.map(function (r) {
      var spend = r.spend && typeof r.spend === "object" ? r.spend.total : r.spend_total !== undefined ? r.spend_total : r.spend;
      return el("tr", { dataset: { key: rowKey(r) } }, [
        el("th", { scope: "row", text: rowName(r) }),
        el("td.n", { text: EN.num(r.mttr_hours, 1) }),
        el("td.n", { text: EN.num(r.mtbf_days, 0) }),
        el("td.n", { text: EN.pct(r.pm_compliance_percent, 0) }),
        el("td.n", { text: EN.pct(r.planned_share_percent, 0) }),
        el("td.n", { text: EN.num(r.backlog_crew_weeks, 1) }),
        el("td.n", { text: EN.pct(r.recall_rate_percent, 1) }),
        el("td.n", { text: AG.money(spend) }),
      ]);
    }) : el("tr", null, el("td.muted", { colspan: 8, text: _("Nothing this month.") })));
  }
  function draw(d) {
    data = d;
    var p = d.period || {};
    $("month-label").textContent = EN.monthName(d.month || month) + (p.complete === false ? " · " + _("so far") : "");
    drawTiles(d);
    drawSpend(d);
    drawCounts(d);
    drawBy(d);
  }

  function load() {
    $("month").value = month;
    $("month-next").disabled = month >= thisMonth;
    $("loading").hidden = false;
    var q = { month: month, building: f.building, contractor: f.contractor, "class": f["class"] };
    return EN.get("/api/v1/analytics/kpis?" + UI.queryString(q)).then(function (res) {
      if (AG.show(res, "kpis")) draw(res.data);
      EN.loaded();
    });
  }
  load();
})();
