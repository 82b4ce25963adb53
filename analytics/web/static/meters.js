// The meter tree for a month (/ui/energy/meters): every meter from GET /api/v1/analytics/meters
// with each building's sub-metering coverage; every parent's balance (GET .../meters/{id}/balance)
// with its unmetered remainder; the chosen parent's remainder day by day, estimated days
// hatched; and the offline meters' entries, typed in or imported from CSV/XLSX, with the rows a
// refused import names.
(function () {
  "use strict";
  var $ = UI.$, el = UI.el;
  var API = "/api/v1/analytics";
  var month = EN.param("month", /^\d{4}-\d{2}$/) || EN.thisMonth();
  var chosen = EN.param("meter", /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/);
  var tree = null, balances = {}, current = null;

  // --- the month -------------------------------------------------------------------------------
  // [from, to) in local days: the month, or up to tomorrow while it is not over.
  function period(m) {
    var from = m + "-01", end = EN.shiftMonth(m, 1) + "-01";
    var tomorrow = UI.date(new Date(Date.now() + 86400000));
    return { from: from, to: end < tomorrow ? end : tomorrow };
  }
  function setMonth(m) {
    if (m > EN.thisMonth()) m = EN.thisMonth();
    month = m;
    EN.keep({ month: m === EN.thisMonth() ? null : m });
    load();
  }
  $("month").value = month;
  $("month").max = EN.thisMonth();
  $("month").addEventListener("change", function () {
    if (/^\d{4}-\d{2}$/.test($("month").value)) setMonth($("month").value);
  });
  $("month-prev").addEventListener("click", function () { setMonth(EN.shiftMonth(month, -1)); });
  $("month-next").addEventListener("click", function () { setMonth(EN.shiftMonth(month, 1)); });

  // --- the tree --------------------------------------------------------------------------------
  function metersOf(data) {
    return Array.isArray(data) ? data : data.meters || data.items || [];
  }
  function coverageOf(data) {
    var out = [];
    var b = data.buildings || data.coverage || [];
    if (Array.isArray(b)) {
      b.forEach(function (x) { out.push({ id: x.id || x.building, name: EN.name(x) || x.building || x.id, pct: x.coverage_percent }); });
    } else {
      Object.keys(b).forEach(function (k) {
        var v = b[k];
        out.push({ id: k, name: k, pct: typeof v === "object" && v ? v.coverage_percent : v });
      });
    }
    return out;
  }
  function drawCoverage(list) {
    var names = {};
    (EN.page.buildings || []).forEach(function (b) { names[b.id] = b.name; });
    UI.add(UI.clear($("coverage")), list.map(function (c) {
      var pct = c.pct;
      // Sub-meters counting more than their parents (over 100 %) is as wrong as too little.
      var kind = pct === null || pct === undefined ? "" : pct > 101 || pct < 70 ? ".bad" : pct >= 90 ? ".ok" : ".warn";
      return el("li.chip.en-cov" + kind, { dataset: { building: c.id || "" } }, [
        (names[c.id] || c.name) + " · ",
        el("span.data", { text: pct === null || pct === undefined ? _("no figures") : _("{pct} sub-metered", { pct: EN.pct(pct) }) }),
      ]);
    }));
  }
  function byId() {
    var out = {};
    metersOf(tree).forEach(function (m) { out[m.id] = m; });
    return out;
  }
  function amountText(v, unit) {
    return v === null || v === undefined ? "–" : EN.num(v) + " " + EN.unit(unit);
  }
  function row(m, all, depth) {
    var b = balances[m.id];
    var kids = (m.children || []).map(function (id) { return all[id]; }).filter(Boolean);
    var figures = [];
    if (b && b.data) {
      figures.push(el("span.en-amt.data", { text: amountText(b.data.parent.amount, b.data.unit) }));
      var rem = b.data.remainder || {};
      figures.push(el("span.chip.en-rem" + remClass(rem.percent), { text: _("remainder {pct}", { pct: EN.pct(rem.percent) }) }));
    } else if (b && b.error) {
      figures.push(el("span.muted", { text: b.error }));
    } else if (m.parent && balances[m.parent] && balances[m.parent].data) {
      // A sub-meter without sub-meters of its own: its figure from its parent's balance.
      var pb = balances[m.parent].data;
      var mine = pb.children.filter(function (c) { return c.id === m.id; })[0];
      if (mine) figures.push(el("span.en-amt.data", { text: amountText(mine.amount, pb.unit) }));
    }
    var label = [
      el("span.en-mname", { text: EN.name(m) }),
      // Electricity's sub-item (01A00...) by name; other carriers' codes (02000 water...) say
      // no more than the carrier does.
      el("span.muted.en-msub", { text: [m.sub_item && m.sub_item.slice(0, 2) === "01" ? EN.subItem(m.sub_item) : "", EN.carrier(m.carrier), m.source === "offline" ? _("offline") : ""].filter(Boolean).join(" · ") }),
    ];
    var head = kids.length
      ? el("button.en-node" + (current === m.id ? ".on" : ""), { type: "button", "aria-pressed": current === m.id ? "true" : "false", dataset: { meter: m.id }, onclick: function () { choose(m.id); } }, [el("span.en-mlabel", null, label), el("span.en-mfig", null, figures)])
      : el("div.en-node.leaf", { dataset: { meter: m.id } }, [el("span.en-mlabel", null, label), el("span.en-mfig", null, figures)]);
    return el("li.en-depth-" + Math.min(depth, 3), null, [head, kids.length ? el("ul.en-kids", null, kids.map(function (k) { return row(k, all, depth + 1); })) : null]);
  }
  function remClass(pct) {
    if (pct === null || pct === undefined) return "";
    var a = Math.abs(pct);
    return a <= 10 ? ".ok" : a <= 25 ? ".warn" : ".bad";
  }
  function drawTree() {
    var all = byId();
    var names = {};
    (EN.page.buildings || []).forEach(function (b) { names[b.id] = b.name; });
    var groups = {}, order = [];
    metersOf(tree).forEach(function (m) {
      if (m.parent && all[m.parent]) return;
      var key = m.building || "";
      if (!groups[key]) { groups[key] = []; order.push(key); }
      groups[key].push(m);
    });
    UI.add(UI.clear($("tree")), order.map(function (key) {
      return el("section.en-building", { dataset: { building: key } }, [
        el("h3", { text: key ? names[key] || key : _("The whole compound") }),
        el("ul.en-tree", null, groups[key].map(function (m) { return row(m, all, 0); })),
      ]);
    }));
  }

  // --- a parent's balance ----------------------------------------------------------------------
  function choose(id) {
    current = id;
    EN.keep({ meter: id });
    drawTree();
    drawBalance();
    var node = document.querySelector("#balance");
    if (node && window.innerWidth <= 1000) node.scrollIntoView({ behavior: "smooth", block: "start" });
  }
  function fig(label, value, sub, cls) {
    return el("div.en-fig" + (cls || ""), null, [el("span.en-fig-label", { text: label }), el("span.en-fig-n.data", { text: value }), sub ? el("span.en-fig-sub", { text: sub }) : null]);
  }
  function drawBalance() {
    var m = byId()[current];
    var b = balances[current];
    $("balance").hidden = !m;
    if (!m) return;
    $("bal-name").textContent = EN.name(m);
    $("bal-error").hidden = !(b && b.error);
    $("bal-error").textContent = b && b.error ? b.error : "";
    $("bal-body").hidden = !(b && b.data);
    if (!b || !b.data) return;
    var d = b.data, u = d.unit;
    var rem = d.remainder || {};
    var unknownDays = rem.unknown_days || 0;
    UI.add(UI.clear($("bal-figs")), [
      fig(_("Parent meter"), amountText(d.parent.amount, u), d.parent.estimated_share ? _("{pct} estimated", { pct: EN.share(d.parent.estimated_share) }) : ""),
      fig(_("Sub-meters"), amountText(rem.children, u), _("{n} meters", { n: d.children.length })),
      fig(_("Unmetered remainder"), amountText(rem.amount, u), unknownDays
        ? _("{pct} · over {n} balanced days; {u} days a sub-meter has no reading", { pct: EN.pct(rem.percent), n: rem.balanced_days, u: unknownDays })
        : EN.pct(rem.percent), ".en-fig-rem" + remClass(rem.percent)),
    ]);
    var days = d.days || [];
    var draw = function () {
      EN.bars($("bal-chart"), {
        labels: days.map(function (x) { return String(Number(x.day.slice(8))); }),
        series: [{ key: "remainder", values: days.map(function (x) { return x.remainder === undefined ? null : x.remainder; }), cls: "rem" }],
        estimated: days.map(function (x) { return (x.estimated_share || 0) > 0; }),
        unknown: days.map(function (x) { return x.remainder === null || x.remainder === undefined; }),
        unit: EN.unit(u),
        height: 260,
        title: function (i) {
          var x = days[i];
          var why = x.unknown && x.unknown.length ? " · " + _("no reading from {meters}", { meters: x.unknown.join(", ") }) : "";
          return x.day + ": " + amountText(x.remainder, u) + (x.estimated_share ? " · " + _("{pct} estimated", { pct: EN.share(x.estimated_share) }) : "") + why;
        },
      });
    };
    draw();
    balanceRedraw = draw;
    var total = d.parent.amount;
    UI.add(UI.clear(document.querySelector("#bal-children tbody")), d.children.map(function (c) {
      var share = total && c.amount !== null && c.amount !== undefined ? EN.pct((100 * c.amount) / total) : "–";
      return el("tr", { dataset: { meter: c.id } }, [
        el("td", null, el("a.data", { href: "/ui/energy/baselines/" + encodeURIComponent(c.id), text: EN.name(c) })),
        el("td", { text: c.sub_item ? c.sub_item + " " + EN.subItem(c.sub_item) : "–" }),
        el("td.n", { text: amountText(c.amount, u) }),
        el("td.n", { text: share }),
        el("td.n", { text: c.estimated_share ? EN.share(c.estimated_share) : "–" }),
      ]);
    }).concat([el("tr.en-rem-row", null, [
      el("td", { text: _("Unmetered remainder") }),
      el("td", { text: "" }),
      el("td.n", { text: amountText(rem.amount, u) }),
      el("td.n", { text: EN.pct(rem.percent) }),
      el("td.n", { text: "" }),
    ])]));
  }
  var balanceRedraw = null;
  EN.onResize(function () { if (balanceRedraw) balanceRedraw(); });

  function load() {
    $("month").value = month;
    $("month-next").disabled = month >= EN.thisMonth();
    $("month-label").textContent = EN.monthName(month);
    $("loading").hidden = false;
    var p = period(month);
    var q = "?" + UI.queryString({ from: p.from, to: p.to });
    return EN.get(API + "/meters" + q).then(function (res) {
      $("loading").hidden = true;
      if (!res.ok || !res.data) {
        $("load-error").hidden = false;
        $("load-error").textContent = EN.why(res);
        return;
      }
      $("load-error").hidden = true;
      tree = res.data;
      drawCoverage(coverageOf(tree));
      var parents = metersOf(tree).filter(function (m) { return (m.children || []).length; });
      if (!current || !parents.some(function (m) { return m.id === current; })) {
        current = chosen && parents.some(function (m) { return m.id === chosen; }) ? chosen : parents.length ? parents[0].id : null;
      }
      balances = {};
      $("meters").hidden = false;
      drawTree();
      return Promise.all(parents.map(function (m) {
        return EN.get(API + "/meters/" + encodeURIComponent(m.id) + "/balance" + q).then(function (r) {
          balances[m.id] = r.ok && r.data ? { data: r.data } : { error: EN.why(r) };
        });
      })).then(function () {
        drawTree();
        drawBalance();
        fillOfflineMeters();
        fillCounterMeters();
        EN.loaded();
      });
    });
  }

  // --- offline meters --------------------------------------------------------------------------
  var offline = [];
  var UNITS = { diesel: ["L", "kg"], gasoline: ["L", "kg"] };
  function fillOfflineMeters() {
    var list = metersOf(tree).filter(function (m) { return m.source === "offline"; });
    if (list.map(function (m) { return m.id; }).join() === offline.map(function (m) { return m.id; }).join()) return;
    offline = list;
    $("offline").hidden = !list.length;
    var sel = $("off-meter");
    var was = sel.value;
    UI.clear(sel);
    list.forEach(function (m) {
      sel.appendChild(el("option", { value: m.id, text: EN.name(m) + " · " + EN.carrier(m.carrier) + " (" + EN.unit(m.unit) + ")" }));
    });
    if (was && list.some(function (m) { return m.id === was; })) sel.value = was;
    meterChanged();
  }
  function offMeter() {
    var id = $("off-meter").value;
    return offline.filter(function (m) { return m.id === id; })[0] || null;
  }
  function meterChanged() {
    var m = offMeter();
    if (!m) return;
    var counter = m.kind === "counter";
    $("entry-counter").hidden = !counter;
    $("entry-quantity").hidden = counter;
    document.querySelectorAll(".off-unit").forEach(function (n) { n.textContent = "(" + EN.unit(m.unit) + ")"; });
    var unit = $("entry-form").elements.unit;
    UI.clear(unit);
    (UNITS[m.carrier] || [m.unit]).forEach(function (u) { unit.appendChild(el("option", { value: u, text: EN.unit(u) })); });
    unit.value = m.unit;
    $("entry-error").hidden = true;
    loadEntries();
  }
  $("off-meter").addEventListener("change", meterChanged);

  function entriesOf(data) {
    return Array.isArray(data) ? data : (data && (data.items || data.entries)) || [];
  }
  function loadEntries() {
    var m = offMeter();
    if (!m) return Promise.resolve();
    return EN.get(API + "/offline/" + encodeURIComponent(m.id) + "/entries").then(function (res) {
      var body = document.querySelector("#entries tbody");
      UI.clear(body);
      if (!res.ok) {
        $("entries-empty").hidden = false;
        $("entries-empty").textContent = EN.why(res);
        return;
      }
      var list = entriesOf(res.data).slice().sort(function (a, b) {
        var ta = a.at || a.from || "", tb = b.at || b.from || "";
        return ta < tb ? 1 : ta > tb ? -1 : 0;
      });
      $("entries-empty").hidden = list.length > 0;
      $("entries-empty").textContent = _("No entries yet.");
      UI.add(body, list.slice(0, 200).map(function (e) { return entryRow(m, e); }));
    });
  }
  function entryRow(m, e) {
    // A quantity's period ends on the day before `to` (excluded).
    var when = e.at ? UI.date(e.at) + " " + UI.time(e.at) : UI.date(e.from) + " – " + UI.date(new Date(new Date(e.to).getTime() - 1));
    // What was typed, exactly (an invoice says 1,234.5 m³, not 1,235).
    var value = UI.number(e.entered_value) + " " + EN.unit(e.entered_unit);
    if (e.entered_unit !== e.unit) value += " (" + EN.num(e.value) + " " + EN.unit(e.unit) + ")";
    var source = e.source === "simulated" ? _("simulated") : e.source === "import" ? _("imported by {who}", { who: e.recorded_by }) : e.recorded_by;
    return el("tr", { dataset: { entry: e.id } }, [
      el("td.nowrap", { text: when }),
      el("td.n", { text: value }),
      el("td.data", { text: source + (e.note ? " · " + e.note : "") }),
      el("td", null, el("button.btn.small.danger", { type: "button", "aria-label": _("Delete entry of {when}", { when: when }), onclick: function () { removeEntry(m, e, when); } }, _("Delete"))),
    ]);
  }
  function removeEntry(m, e, when) {
    if (!window.confirm(_("Delete the entry of {when}?", { when: when }))) return;
    EN.send("DELETE", API + "/offline/" + encodeURIComponent(m.id) + "/entries/" + encodeURIComponent(e.id)).then(function (res) {
      if (!res.ok) return UI.toast(EN.why(res), "error");
      UI.toast(_("Entry deleted"), "ok");
      loadEntries();
      load();
    });
  }

  $("entry-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var m = offMeter();
    if (!m) return;
    var f = ev.target.elements;
    var body, missing = [];
    if (m.kind === "counter") {
      if (!f.at.value) missing.push(_("Read at"));
      if (f.value.value === "") missing.push(_("Reading"));
      // Times without a zone are the site's local time (the API says so).
      body = { at: f.at.value || null, value: Number(f.value.value), note: f.note.value || null };
    } else {
      if (!f.from.value) missing.push(_("First day"));
      if (!f.to.value) missing.push(_("To (not included)"));
      if (f.amount.value === "") missing.push(_("Quantity"));
      body = { from: f.from.value + "T00:00", to: f.to.value + "T00:00", amount: Number(f.amount.value), unit: f.unit.value, note: f.note.value || null };
    }
    var box = $("entry-error");
    if (missing.length) {
      box.hidden = false;
      box.textContent = _("Please fill in: {fields}", { fields: missing.join(", ") });
      return;
    }
    $("entry-save").disabled = true;
    EN.send("POST", API + "/offline/" + encodeURIComponent(m.id) + "/entries", body).then(function (res) {
      $("entry-save").disabled = false;
      if (!res.ok) {
        box.hidden = false;
        var rows = EN.rowErrors(res);
        box.textContent = EN.why(res) + (rows.length ? " " + rows.join("; ") : "");
        return;
      }
      box.hidden = true;
      UI.toast(_("Entry saved"), "ok");
      f.value.value = "";
      f.amount.value = "";
      f.note.value = "";
      loadEntries();
      load();
    });
  });

  // --- meter replacements ---------------------------------------------------------------------
  var counters = [];
  function fillCounterMeters() {
    var list = metersOf(tree).filter(function (m) { return m.kind === "counter"; });
    if (list.map(function (m) { return m.id; }).join() === counters.map(function (m) { return m.id; }).join()) return;
    counters = list;
    $("replacements").hidden = !list.length;
    var sel = $("repl-meter"), was = sel.value;
    UI.clear(sel);
    list.forEach(function (m) {
      sel.appendChild(el("option", { value: m.id, text: EN.name(m) + " (" + EN.unit(m.unit) + ")" }));
    });
    if (was && list.some(function (m) { return m.id === was; })) sel.value = was;
    loadReplacements();
  }
  function loadReplacements() {
    var id = $("repl-meter").value;
    if (!id) return Promise.resolve();
    var unit = (counters.filter(function (m) { return m.id === id; })[0] || {}).unit;
    return EN.get(API + "/meters/" + encodeURIComponent(id) + "/replacements").then(function (res) {
      var items = res.ok && res.data ? res.data.items : [];
      $("repl-empty").hidden = items.length > 0;
      $("repl-empty").textContent = res.ok ? _("No replacement recorded for this meter.") : EN.why(res);
      UI.add(UI.clear(document.querySelector("#repl-list tbody")), items.slice().reverse().map(function (r) {
        return el("tr", { dataset: { replacement: r.id } }, [
          el("td.nowrap", { text: UI.date(r.at) + " " + UI.time(r.at) }),
          el("td.n", { text: UI.number(r.old_final) + " " + EN.unit(unit) }),
          el("td.n", { text: UI.number(r.new_initial) + " " + EN.unit(unit) }),
          el("td.data", { text: r.recorded_by + (r.note ? " · " + r.note : "") }),
        ]);
      }));
    });
  }
  $("repl-meter").addEventListener("change", function () {
    $("repl-error").hidden = true;
    loadReplacements();
  });
  $("repl-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = ev.target.elements, box = $("repl-error"), missing = [];
    if (!f.at.value) missing.push(_("Replaced at"));
    if (f.old_final.value === "") missing.push(_("Old meter's last reading"));
    if (f.new_initial.value === "") missing.push(_("New meter's first reading"));
    if (missing.length) {
      box.hidden = false;
      box.textContent = _("Please fill in: {fields}", { fields: missing.join(", ") });
      return;
    }
    var body = { at: f.at.value, old_final: Number(f.old_final.value), new_initial: Number(f.new_initial.value), note: f.note.value || null };
    $("repl-save").disabled = true;
    EN.send("POST", API + "/meters/" + encodeURIComponent($("repl-meter").value) + "/replacements", body).then(function (res) {
      $("repl-save").disabled = false;
      if (!res.ok) {
        box.hidden = false;
        box.textContent = EN.why(res);
        return;
      }
      box.hidden = true;
      UI.toast(_("Replacement recorded"), "ok");
      f.old_final.value = "";
      f.new_initial.value = "";
      f.note.value = "";
      loadReplacements();
      load();
    });
  });

  // --- import ----------------------------------------------------------------------------------
  var file = $("import-file");
  file.addEventListener("change", function () {
    var has = file.files && file.files.length > 0;
    $("import-name").textContent = has ? file.files[0].name : "";
    $("import-check").disabled = !has;
    $("import-go").disabled = !has;
    $("import-result").hidden = true;
  });
  function upload(dryRun) {
    if (!file.files || !file.files.length) return;
    var form = new FormData();
    form.append("file", file.files[0]);
    $("import-check").disabled = $("import-go").disabled = true;
    var url = API + "/offline/import" + (dryRun ? "?dry_run=true" : "");
    EN.send("POST", url, form).then(function (res) {
      $("import-check").disabled = $("import-go").disabled = false;
      var box = $("import-result");
      box.hidden = false;
      box.classList.toggle("failed", !res.ok);
      var errors = res.ok ? [] : EN.rowErrors(res);
      UI.add(UI.clear($("import-errors")), errors.map(function (t) { return el("li.data", { text: t }); }));
      if (!res.ok) {
        $("import-summary").textContent = errors.length
          ? _("Nothing was imported: {n} rows are not right.", { n: errors.length })
          : EN.why(res);
        return;
      }
      var d = res.data || {};
      $("import-summary").textContent = dryRun ? _("Every row is right: {n} rows would be imported.", { n: d.rows }) : _("Imported {n} rows.", { n: d.stored });
      if (!dryRun) {
        loadEntries();
        load();
      }
    });
  }
  $("import-check").addEventListener("click", function () { upload(true); });
  $("import-go").addEventListener("click", function () { upload(false); });

  load();
})();
