// The year's filing figures (/ui/energy) from GET /api/v1/analytics/energy?year=Y[&building=B]:
// the indicators as tiles against the site's references, energy month by month by carrier,
// the carriers and the electricity sub-items, each building's figures, and every factor used.
(function () {
  "use strict";
  var $ = UI.$, el = UI.el;
  var thisYear = Number(EN.thisMonth().slice(0, 4));
  var year = Number(EN.param("year", /^\d{4}$/) || thisYear);
  if (year > thisYear) year = thisYear;
  var building = EN.param("building", /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/) || "";
  var data = null;
  var ORDER = ["electricity", "natural_gas", "diesel", "gasoline", "lpg", "raw_coal", "heat"];
  var KIND = { kgce: _("standard coal"), kgco2e: _("carbon") };
  var BASIS = { equivalent: _("equivalent value (当量值)"), equal: _("equal value (等价值)") };

  // --- pickers ---------------------------------------------------------------------------------
  var sel = $("year");
  for (var y = thisYear; y >= thisYear - 5; y--) sel.appendChild(el("option", { value: String(y), text: String(y) }));
  if (year < thisYear - 5) sel.appendChild(el("option", { value: String(year), text: String(year) }));
  $("scope").value = building;
  if ($("scope").value !== building) building = "";
  function setYear(y) {
    year = Math.min(thisYear, y);
    EN.keep({ year: year === thisYear ? null : year });
    load();
  }
  sel.addEventListener("change", function () { setYear(Number(sel.value)); });
  $("year-prev").addEventListener("click", function () { setYear(year - 1); });
  $("year-next").addEventListener("click", function () { setYear(year + 1); });
  $("scope").addEventListener("change", function () {
    building = $("scope").value;
    EN.keep({ building: building || null });
    load();
  });

  // --- tiles -----------------------------------------------------------------------------------
  function refName(id) {
    var r = (data.references || []).filter(function (x) { return x.id === id; })[0];
    return r ? EN.name(r) : id;
  }
  function refLines(ind) {
    return ((ind && ind.references) || []).map(function (r) {
      var kind = r.ratio === null || r.ratio === undefined ? "" : r.ratio <= 1 ? ".ok" : ".bad";
      // No ratio while the year runs: the references are whole years (the period line says so).
      return el("span.en-ref", { dataset: { ref: r.id } }, [
        r.ratio === null || r.ratio === undefined ? null : el("span.chip" + kind, { text: _("{pct} of reference", { pct: EN.pct(100 * r.ratio, 0) }) }),
        el("span.en-ref-name", { text: _("{name}: {value}", { name: refName(r.id), value: EN.num(r.value) }) }),
      ]);
    });
  }
  function tile(key, value, unit, label, ind, sub) {
    return el("div.en-tile", { dataset: { figure: key } }, [
      el("span.en-tile-n", null, [el("span.data", { text: EN.num(value) }), " ", el("span.en-tile-unit", { text: unit })]),
      el("span.en-tile-label", { text: label }),
      sub ? el("span.en-tile-sub", { text: sub }) : null,
      el("span.en-tile-refs", null, refLines(ind)),
    ]);
  }
  function drawTiles(d) {
    var ind = d.indicators || {};
    var v = function (k) { return ind[k] ? ind[k].value : null; };
    UI.add(UI.clear($("tiles")), [
      tile("tce", d.energy.tce, "tce", _("Total energy"), null, _("{area} m² · {people} people", { area: EN.num(d.floor_area_m2, 0), people: EN.num(d.occupants, 0) }) + (d.energy.estimated_share ? " · " + _("{pct} estimated", { pct: EN.share(d.energy.estimated_share) }) : "")),
      tile("kgce_per_m2", v("kgce_per_m2"), "kgce/m²", _("Energy per floor area"), ind.kgce_per_m2),
      tile("kgce_per_person", v("kgce_per_person"), _("kgce/person"), _("Energy per person"), ind.kgce_per_person),
      tile("water_m3_per_person", v("water_m3_per_person"), _("m³/person"), _("Water per person"), ind.water_m3_per_person),
      tile("kgco2e", EN.tonnes(d.energy.kgco2e), "tCO₂e", _("Carbon"), null, _("{v} kgCO₂e/m²", { v: EN.num(v("kgco2e_per_m2")) })),
    ]);
  }

  // --- month by month --------------------------------------------------------------------------
  function drawMonthly(d) {
    var months = d.months || [];
    var carriers = ORDER.filter(function (c) {
      return months.some(function (m) { return m.carriers && m.carriers[c] && m.carriers[c].kgce; });
    });
    var series = carriers.map(function (c) {
      return {
        key: c,
        label: EN.carrier(c),
        cls: c,
        values: months.map(function (m) { return m.carriers && m.carriers[c] ? m.carriers[c].kgce : 0; }),
      };
    });
    EN.legend($("monthly-legend"), series);
    EN.bars($("monthly-chart"), {
      labels: months.map(function (m) { return EN.monthName(m.month, true); }),
      series: series,
      estimated: months.map(function (m) { return (m.estimated_share || 0) > 0.001; }),
      unit: "kgce",
      height: window.innerWidth > 1400 ? 340 : 300,
      every: 1,
      title: function (i) {
        var m = months[i];
        return EN.monthName(m.month) + ": " + EN.num(m.kgce) + " kgce" + (m.estimated_share ? " · " + _("{pct} estimated", { pct: EN.share(m.estimated_share) }) : "");
      },
    });
  }

  // The months' figures as a table: each carrier's amount, water, standard coal, carbon.
  function drawMonthsTable(d) {
    var months = d.months || [];
    var carriers = ORDER.filter(function (c) { return months.some(function (m) { return m.carriers && m.carriers[c]; }); });
    var unitOf = {};
    months.forEach(function (m) { carriers.forEach(function (c) { if (m.carriers[c]) unitOf[c] = m.carriers[c].unit; }); });
    var table = $("months-table");
    UI.add(UI.clear(table.querySelector("thead tr")), [el("th", { text: _("Month") })]
      .concat(carriers.map(function (c) { return el("th.n", { text: EN.carrier(c) + " (" + EN.unit(unitOf[c]) + ")" }); }))
      .concat([el("th.n", { text: _("Water") + " (m³)" }), el("th.n", { text: "kgce" }), el("th.n", { text: "kgCO₂e" }), el("th.n", { text: _("Estimated") })]));
    UI.add(UI.clear(table.querySelector("tbody")), months.map(function (m) {
      return el("tr", { dataset: { month: m.month } }, [el("td.nowrap", { text: EN.monthName(m.month, "year") })]
        .concat(carriers.map(function (c) { return el("td.n", { text: m.carriers[c] ? EN.num(m.carriers[c].amount) : "–" }); }))
        .concat([
          el("td.n", { text: EN.num(m.water_m3) }),
          el("td.n", { text: EN.num(m.kgce) }),
          el("td.n", { text: EN.num(m.kgco2e) }),
          el("td.n", { text: m.estimated_share ? EN.share(m.estimated_share) : "–" }),
        ]));
    }));
  }

  // --- carriers and sub-items ------------------------------------------------------------------
  function drawCarriers(d) {
    var rows = (d.carriers || []).map(function (c) {
      return el("tr", { dataset: { carrier: c.carrier } }, [
        el("td", null, [el("span.sw.sw-" + c.carrier, { "aria-hidden": "true" }), UI.name(c, "name") || EN.carrier(c.carrier)]),
        el("td.n", { text: EN.num(c.amount) + " " + EN.unit(c.unit) }),
        el("td.n", { text: EN.num(c.tce) }),
        el("td.n", { text: EN.share(c.share) }),
        el("td.n", { text: EN.num(EN.tonnes(c.kgco2e)) }),
      ]);
    });
    rows.push(el("tr.en-total", null, [
      el("td", { text: _("Total") }),
      el("td.n", { text: "" }),
      el("td.n", { text: EN.num(d.energy.tce) }),
      el("td.n", { text: d.carriers && d.carriers.length ? EN.pct(100, 0) : "–" }),
      el("td.n", { text: EN.num(EN.tonnes(d.energy.kgco2e)) }),
    ]));
    UI.add(UI.clear(document.querySelector("#carriers tbody")), rows);
    var w = d.water || {};
    // m3 is null both without a water meter (no estimated share either) and when nothing is known.
    $("water-line").textContent = w.m3 === null || w.m3 === undefined
      ? (w.estimated_share === null || w.estimated_share === undefined ? _("Water: no water meter counted.") : _("Water: no figures for this period."))
      : _("Water (not energy): {m3} m³", { m3: EN.num(w.m3) }) + (w.estimated_share ? " · " + _("{pct} estimated", { pct: EN.share(w.estimated_share) }) : "");
  }
  function drawSubItems(d) {
    var e = d.electricity || { sub_items: [], unmetered: {} };
    var rows = (e.sub_items || []).map(function (s) {
      return { key: s.code, label: s.code + " " + (UI.name(s, "name") || EN.subItem(s.code)), value: s.kwh, text: EN.num(s.kwh, 0) + " kWh · " + EN.share(s.share), cls: "sub" + s.code };
    });
    var un = e.unmetered || {};
    rows.push({ key: "unmetered", label: _("Unmetered remainder"), value: un.kwh, text: EN.num(un.kwh, 0) + " kWh · " + EN.share(un.share), cls: "rem" });
    EN.hbars($("subitems"), { rows: rows });
    $("subitems-note").textContent = _("{kwh} kWh of electricity in all; the remainder is what the main meters count and no sub-meter does.", { kwh: EN.num(e.kwh, 0) });
  }

  // --- buildings, factors, references ---------------------------------------------------------
  function cell(ind) {
    if (!ind) return el("td.n", { text: "–" });
    var worst = null;
    (ind.references || []).forEach(function (r) { if (r.ratio !== null && r.ratio !== undefined && (worst === null || r.ratio > worst)) worst = r.ratio; });
    return el("td.n" + (worst === null ? "" : worst <= 1 ? ".pass" : ".fail"), { text: EN.num(ind.value), title: worst === null ? "" : _("{pct} of reference", { pct: EN.pct(100 * worst, 0) }) });
  }
  function drawBuildings(d) {
    var list = d.buildings || [];
    $("buildings-card").hidden = !list.length;
    UI.add(UI.clear(document.querySelector("#buildings tbody")), list.map(function (b) {
      var ind = b.indicators || {};
      return el("tr", { dataset: { building: b.id } }, [
        el("th", { scope: "row" }, el("a", { href: "/ui/energy?" + UI.queryString({ year: year === thisYear ? "" : year, building: b.id }), text: EN.name(b), dataset: { building: b.id } })),
        el("td.n", { text: EN.num(b.floor_area_m2, 0) + " m²" }),
        el("td.n", { text: EN.num(b.occupants, 0) }),
        el("td.n", { text: EN.num(b.energy.tce) }),
        cell(ind.kgce_per_m2),
        cell(ind.kgce_per_person),
        cell(ind.water_m3_per_person),
        cell(ind.kgco2e_per_m2),
      ]);
    }));
    document.querySelectorAll("#buildings a").forEach(function (a) {
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        building = a.dataset.building;
        $("scope").value = building;
        EN.keep({ building: building });
        window.scrollTo(0, 0);
        load();
      });
    });
  }
  function drawFactors(d) {
    UI.add(UI.clear($("factors")), (d.factors || []).map(function (f) {
      var valid = f.valid_from || f.valid_to ? " · " + (f.valid_from || "…") + " – " + (f.valid_to || "…") : "";
      return el("li", { dataset: { carrier: f.carrier, kind: f.kind } }, [
        el("b", { text: EN.carrier(f.carrier) + " · " + (KIND[f.kind] || f.kind) }),
        " ",
        el("span.data", { text: EN.num(f.value, 4) + " " + (f.kind === "kgce" ? "kgce" : "kgCO₂e") + "/" + EN.unit(f.unit) }),
        f.kind === "kgce" && f.carrier === "electricity" ? el("span.muted", { text: " · " + (BASIS[f.basis] || f.basis) }) : null,
        el("span.en-source.data", { text: f.source + valid }),
      ]);
    }));
  }
  function drawReferences(d) {
    var refs = d.references || [];
    $("refs-empty").hidden = refs.length > 0;
    UI.add(UI.clear($("references")), refs.map(function (r) {
      var vals = [];
      if (r.kgce_per_m2) vals.push(_("{v} kgce/m²", { v: EN.num(r.kgce_per_m2) }));
      if (r.kgce_per_person) vals.push(_("{v} kgce/person", { v: EN.num(r.kgce_per_person) }));
      if (r.water_m3_per_person) vals.push(_("{v} m³/person of water", { v: EN.num(r.water_m3_per_person) }));
      return el("li", { dataset: { ref: r.id } }, [
        el("b", { text: EN.name(r) + (r.year ? " (" + r.year + ")" : "") }),
        " ",
        el("span.data", { text: vals.join(" · ") }),
        el("span.en-source.data", { text: r.source }),
      ]);
    }));
  }

  function draw(d) {
    data = d;
    var p = d.period || {};
    $("year-label").textContent = String(d.year) + (building ? " · " + $("scope").selectedOptions[0].textContent : "");
    var through = p.complete ? _("the whole year") : _("{from} to {through} so far", { from: p.from, through: p.through }) + " · " + _("compared with the references once the year is over");
    $("period").textContent = through + " · " + _("electricity as {basis}", { basis: BASIS[d.basis] || d.basis });
    drawTiles(d);
    drawMonthly(d);
    redraws.monthly = function () { drawMonthly(d); };
    drawMonthsTable(d);
    drawCarriers(d);
    drawSubItems(d);
    drawBuildings(d);
    drawFactors(d);
    drawReferences(d);
  }
  var redraws = {};
  EN.onResize(function () { Object.keys(redraws).forEach(function (k) { redraws[k](); }); });

  function load() {
    sel.value = String(year);
    $("year-next").disabled = year >= thisYear;
    $("year-prev").disabled = year <= 2000;
    $("loading").hidden = false;
    return EN.get("/api/v1/analytics/energy?" + UI.queryString({ year: year, building: building })).then(function (res) {
      $("loading").hidden = true;
      if (!res.ok || !res.data) {
        $("energy").hidden = true;
        $("load-error").hidden = false;
        $("load-error").textContent = EN.why(res);
        EN.loaded();
        return;
      }
      $("load-error").hidden = true;
      $("energy").hidden = false;
      draw(res.data);
      EN.loaded();
    });
  }
  load();
})();
