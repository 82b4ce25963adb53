// An asset: where it is, its open work, its history, and a new request for it.
(function () {
  "use strict";
  var $ = UI.$, el = UI.el;
  var assetId = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop());
  var api = "/api/v1/assets/" + encodeURIComponent(assetId);
  var CRITICALITY = { low: _("low"), medium: _("medium"), high: _("high"), critical: _("critical") };
  var historyNext = null;
  var OFFICE_OPEN = 6;

  function fact(dl, term, value) {
    if (value === null || value === undefined || value === "") return;
    UI.add(dl, el("div", null, [el("dt", { text: term }), el("dd", null, value)]));
  }
  function drawAsset(a) {
    var name = UI.name(a, "name");
    document.title = name + " · " + _("Plantroom");
    $("asset-name").textContent = name;
    var facts = UI.clear($("asset-facts"));
    fact(facts, _("Asset id"), a.id);
    if (a.location) fact(facts, _("Location"), el("span.data", { text: UI.name(a, "location") }));
    else fact(facts, _("Building"), el("span.data", { text: UI.name(a, "building_name") }));
    fact(facts, _("Class"), el("span.data", { text: (a.brick_class || "").replace(/_/g, " ") }));
    fact(facts, _("Criticality"), CRITICALITY[a.criticality] || a.criticality);
    fact(facts, _("Installed"), a.install_date || "");
  }
  function drawOpen(items) {
    var list = UI.clear($("open-work"));
    // The office's page keeps the list short (PM jobs pile up on an asset), with all a tap away.
    var cap = $("readings-box") && items.length > OFFICE_OPEN ? OFFICE_OPEN : items.length;
    UI.add(list, items.slice(0, cap).map(function (w) { return UI.card(w); }));
    if (cap < items.length) {
      UI.add(list, UI.el("li.more-row", null, UI.el("button.btn.more", { type: "button", id: "open-all", text: _("Show all {n}", { n: items.length }), onclick: function () {
        UI.add(UI.clear(list), items.map(function (w) { return UI.card(w); }));
      } })));
    }
    $("open-empty").hidden = items.length > 0;
  }
  function drawHistory(items, append) {
    var tbody = $("history").tBodies[0];
    if (!append) UI.clear(tbody);
    items.forEach(function (h) {
      tbody.appendChild(el("tr", null, [
        el("td", null, el("a.row-link", { href: "/ui/workorders/" + h.id, text: "#" + h.id })),
        el("td.data", { text: h.title }),
        el("td", { text: UI.STATUS[h.status] || h.status }),
        el("td.nowrap", { text: UI.date(h.opened) }),
        el("td.n", { text: UI.number(h.cost_total || 0, 2) }),
      ]));
    });
    $("history-empty").hidden = tbody.rows.length > 0;
    $("history").hidden = tbody.rows.length === 0;
    $("history-more").hidden = !historyNext;
  }
  function loadHistory(append) {
    var url = api + "/history?" + UI.queryString({ limit: 20, cursor: append ? historyNext : null });
    return UI.get(url).then(function (res) {
      if (!res.ok) return;
      historyNext = res.data.next_cursor;
      drawHistory(res.data.items, append);
      if (window.Plant) Plant.totals(res.data.totals);
    });
  }
  function load() {
    return UI.get(api).then(function (res) {
      $("loading").hidden = true;
      if (!res.ok) {
        $("load-error").hidden = false;
        $("load-error").textContent = _("This asset could not be loaded.");
        return;
      }
      $("asset").hidden = false;
      drawAsset(res.data);
      if (window.Plant) Plant.load(res.data);
      var open = "/api/v1/workorders?" + UI.queryString({ asset_id: assetId, open: "true", sort: "urgency", limit: 100 });
      return Promise.all([
        UI.get(open).then(function (r) { if (r.ok) drawOpen(r.data.items); }),
        loadHistory(false),
      ]);
    });
  }
  $("history-more").addEventListener("click", function () { loadHistory(true); });
  if ($("readings-box")) window.Plant = plant();

  var dlg = $("request-dlg");
  $("new-request").addEventListener("click", function () {
    dlg.returnValue = "";
    dlg.showModal();
  });
  dlg.addEventListener("close", function () {
    var form = $("request-form");
    if (dlg.returnValue === "ok") {
      var body = {
        title: form.elements.title.value.trim(),
        description: form.elements.description.value.trim(),
        priority: form.elements.priority.value,
        asset_id: assetId,
      };
      UI.act({ woId: null, kind: "create", label: _("New request: {title}", { title: body.title }), method: "POST", url: "/api/v1/workorders", body: body })
        .then(function (res) {
          UI.report(res, _("Work order created"));
          if (res.state === "sent" && res.data && res.data.id) location.href = "/ui/workorders/" + res.data.id;
        });
    }
    form.reset();
  });
  // --- the office's parts: life and cost, QR label, readings chart, PM schedule, devices -----
  function plant() {
    var CHART_STEPS = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];
    var points = [];
    // A point's name in words, as the rules say it (alerts.rules.base.point_phrase): in Chinese
    // from the catalog, in English the profile's own description.
    var CAPITALS = ["dc", "ac", "l1", "l2", "l3", "n", "co2", "pm2", "pm10"];
    function meaning(name, description) {
      var phrase = name.split(/[_\s]+/).map(function (w) { return CAPITALS.indexOf(w) >= 0 ? w.toUpperCase() : w; }).join(" ");
      if (UI.zh) return _(phrase);
      return description || phrase;
    }
    function words(box, text, cls) {
      box.textContent = text;
      box.className = box.className.replace(/ ?(ok|warning|replace|past|near)\b/g, "") + (cls ? " " + cls : "");
    }
    function drawLife(p) {
      var l = p.life, c = p.costs;
      $("life-box").hidden = false;
      var gauge = UI.clear($("life-gauge"));
      if (l.age_years !== null && l.expected_life_years) {
        var used = l.age_years / l.expected_life_years;
        var fill = el("span.life-fill");
        fill.style.width = Math.min(100, Math.round(used * 100)) + "%"; // CSSOM, not a style attribute (CSP)
        UI.add(gauge, el("span.life-bar.big." + (used > 1 ? "past" : used >= 0.75 ? "near" : "ok"), { "aria-hidden": "true" }, fill));
      }
      var text;
      if (l.age_years === null) text = _("Install date unknown.");
      else if (!l.expected_life_years) text = _("{age} years old; expected life unknown.", { age: UI.number(l.age_years, 1) });
      else if (l.past_life) text = _("{age} years old: {over} years past its expected life of {life} years.", { age: UI.number(l.age_years, 1), over: UI.number(-l.remaining_years, 1), life: UI.number(l.expected_life_years, 0) });
      else text = _("{age} years old, {left} years left of its expected life of {life} years.", { age: UI.number(l.age_years, 1), left: UI.number(l.remaining_years, 1), life: UI.number(l.expected_life_years, 0) });
      if (l.life_source === "class_median") text += " " + _("Expected life: the median for its class ({basis}).", { basis: l.life_basis });
      if (l.assessment_due) text += " " + _("Older than the 15-year design life of a lift: a safety assessment may be required.");
      words($("life-words"), text, l.past_life ? "past" : l.used_percent >= 75 ? "near" : "");
      var cost;
      var jobs = c.repairs === 1 ? _("1 repair") : _("{n} repairs", { n: c.repairs });
      if (c.replacement_cost === null) cost = _("Repairs so far: {cost} ({jobs}); replacement cost unknown.", { cost: UI.number(c.repair_cost, 2), jobs: jobs });
      else cost = _("Repairs so far: {cost} ({jobs}), {share} % of its replacement cost of {replace}.", { cost: UI.number(c.repair_cost, 2), jobs: jobs, share: UI.number(c.share_percent, 1), replace: UI.number(c.replacement_cost, 0) });
      if (c.flag === "warning") cost += " " + _("Over half its replacement cost: consider replacing it.");
      if (c.flag === "replace") cost += " " + _("Over three quarters of its replacement cost: replace it.");
      words($("cost-words"), cost, c.flag === "ok" ? "" : c.flag);
    }
    function drawDevices(p) {
      var box = UI.clear($("devices"));
      $("devices-box").hidden = false;
      $("devices-empty").hidden = p.devices.length > 0;
      p.devices.forEach(function (d) {
        var rows = d.points.map(function (pt) {
          return el("tr", null, [
            el("td", null, el("button.link.point-link", { type: "button", dataset: { point: pt.name }, text: pt.name, onclick: function () { chartPoint(pt.name); } })),
            el("td.data", { text: meaning(pt.name, pt.description) }),
            el("td", { text: pt.unit }),
            el("td.nowrap.muted", { text: pt.table + " " + pt.address }),
          ]);
        });
        UI.add(box, el("section.device", { dataset: { id: d.id } }, [
          el("h3.device-name", null, [el("span.data", { text: d.id }), " ", el("span.muted", { text: d.description || d.profile })]),
          el("p.device-meta", { text: _("{link}, unit {unit}, every {s} s", { link: d.link, unit: d.unit_id, s: UI.number(d.poll_interval, 0) }) + (d.enabled ? "" : " · " + _("disabled")) }),
          el("table.lines.points", null, [
            el("thead", null, el("tr", null, [el("th", { text: _("Point") }), el("th", { text: _("Meaning") }), el("th", { text: _("Unit") }), el("th", { text: _("Register") })])),
            el("tbody", null, rows),
          ]),
        ]));
      });
    }
    function jobText(j) {
      if (!j) return null;
      var out = UI.date(j.done_at || j.due_at);
      if (j.late && j.late.reason === "gap") out += " · " + _("late: {days} days after the previous one (limit {limit})", { days: j.late.gap_days, limit: j.late.max_gap_days });
      else if (j.outcome === "late") out += " · " + _("late");
      else if (j.outcome === "not_done") out += " · " + _("overdue");
      return out;
    }
    function drawPm(res) {
      var list = UI.clear($("pm-list"));
      $("pm-box").hidden = false;
      $("pm-empty").hidden = res.items.length > 0;
      res.items.forEach(function (s) {
        var late = (s.open && s.open.outcome === "not_done") || (s.last_done && s.last_done.outcome === "late");
        UI.add(list, el("li.pm-item" + (late ? ".late" : ""), { dataset: { schedule: s.id } }, [
          el("div.pm-name", null, [
            s.statutory ? el("span.chip.statutory-chip", { text: _("Statutory") }) : null,
            s.type === "inspection" ? el("span.chip.inspection-chip", { text: _("Inspection body") }) : null,
            el("b.data", { text: UI.name(s, "name") }),
          ]),
          s.source ? el("div.pm-source.muted.data", { text: s.source }) : null,
          el("dl.pm-facts", null, [
            el("div", null, [el("dt", { text: _("Last done") }), el("dd", null, s.last_done ? [el("a", { href: "/ui/workorders/" + s.last_done.workorder_id, text: "#" + s.last_done.workorder_id }), " " + jobText(s.last_done)] : _("never"))]),
            el("div", null, [el("dt", { text: _("Open now") }), el("dd", null, s.open ? [el("a", { href: "/ui/workorders/" + s.open.workorder_id, text: "#" + s.open.workorder_id }), " " + _("due {date}", { date: UI.date(s.open.due_at) }) + (s.open.outcome === "not_done" ? " · " + _("overdue") : "")] : "–")]),
            el("div", null, [el("dt", { text: _("Next due") }), el("dd", { text: s.next_due_at ? UI.date(s.next_due_at) : "–" })]),
          ]),
        ]));
      });
    }
    // Local wall time of the site for a datetime-local input, and back.
    function toInput(ms) {
      var d = new Date(ms);
      var p = new Intl.DateTimeFormat("en-GB", { timeZone: document.body.dataset.tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(d);
      var o = {};
      p.forEach(function (x) { o[x.type] = x.value; });
      return o.year + "-" + o.month + "-" + o.day + "T" + o.hour + ":" + o.minute;
    }
    // How far the site's wall clock is ahead of UTC at ms.
    function tzOffset(ms) {
      var p = new Intl.DateTimeFormat("en-GB", { timeZone: document.body.dataset.tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).formatToParts(new Date(ms));
      var o = {};
      p.forEach(function (x) { o[x.type] = Number(x.value); });
      return Date.UTC(o.year, o.month - 1, o.day, o.hour, o.minute, o.second) - Math.floor(ms / 1000) * 1000;
    }
    function stepText(s) {
      if (s % 86400 === 0) return _("{n} d", { n: s / 86400 });
      if (s % 3600 === 0) return _("{n} h", { n: s / 3600 });
      if (s % 60 === 0) return _("{n} min", { n: s / 60 });
      return _("{n} s", { n: s });
    }
    function niceStep(span) {
      for (var i = 0; i < CHART_STEPS.length; i++) if (CHART_STEPS[i] * 1000 * 6 >= span) return CHART_STEPS[i] * 1000;
      return CHART_STEPS[CHART_STEPS.length - 1] * 1000;
    }
    function chartPoint(name) {
      $("chart-point").value = name;
      drawChart();
      $("readings-box").scrollIntoView({ behavior: "smooth", block: "start" });
    }
    function drawChart() {
      var form = $("chart-form");
      var point = form.elements.point.value;
      if (!point) return;
      var range = form.elements.range.value;
      var from, to, q;
      if (range === "custom") {
        if (!form.elements.from.value || !form.elements.to.value) return;
        q = { from: form.elements.from.value, to: form.elements.to.value };
      } else {
        to = Date.now();
        from = to - Number(range) * 1000;
        q = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
      }
      var url = api + "/readings?" + UI.queryString({ point: point, from: q.from, to: q.to, agg: form.elements.agg.value });
      $("chart-error").hidden = true;
      $("chart").setAttribute("aria-busy", "true");
      UI.get(url).then(function (res) {
        $("chart").setAttribute("aria-busy", "false");
        if (!res.ok) {
          $("chart-error").hidden = false;
          $("chart-error").textContent = UI.errorText(res.data);
          return;
        }
        var r = res.data, pts = r.points;
        var t0 = pts.length ? new Date(pts[0].ts).getTime() : Date.now();
        var t1 = pts.length ? new Date(pts[pts.length - 1].ts).getTime() + r.step * 1000 : t0;
        var span = t1 - t0;
        var long = span > 2 * 86400000;
        var found = points.filter(function (p) { return p.name === point; })[0];
        PRChart.draw($("chart"), {
          points: pts,
          from: t0,
          to: t1,
          unit: r.unit,
          timeStep: niceStep(span),
          tzOffset: tzOffset(t0),
          timeLabel: function (t) { return long ? UI.date(new Date(t)).slice(5) : UI.time(new Date(t)); },
          empty: _("No readings in this range."),
        });
        var good = pts.filter(function (p) { return p.value !== null; }).length;
        $("chart-caption").textContent = _("{point} ({label}), {from} to {to}: {n} of {total} buckets of {step} with readings.", {
          point: point,
          label: found ? meaning(found.name, found.label) : r.unit || "",
          from: UI.date(new Date(t0)) + " " + UI.time(new Date(t0)),
          to: UI.date(new Date(t1)) + " " + UI.time(new Date(t1)),
          n: good,
          total: pts.length,
          step: stepText(r.step),
        });
        $("chart").dataset.point = point;
        $("chart").dataset.buckets = String(pts.length);
      });
    }
    function showCustom() {
      var custom = $("chart-range").value === "custom";
      document.querySelectorAll(".custom-range").forEach(function (n) { n.hidden = !custom; });
      if (custom && !$("chart-from").value) {
        $("chart-to").value = toInput(Date.now());
        $("chart-from").value = toInput(Date.now() - 86400000);
      }
    }
    $("chart-range").addEventListener("change", function () { showCustom(); if ($("chart-range").value !== "custom") drawChart(); });
    $("chart-point").addEventListener("change", drawChart);
    $("chart-agg").addEventListener("change", drawChart);
    $("chart-form").addEventListener("submit", function (e) { e.preventDefault(); drawChart(); });
    $("print-qr").addEventListener("click", function () { window.print(); });
    showCustom();
    return {
      load: function (a) {
        var name = UI.name(a, "name");
        $("qr-img").src = api + "/qr.svg?scale=6";
        $("qr-name").textContent = name;
        $("qr-id").textContent = a.id;
        points = a.points || [];
        var sel = UI.clear($("chart-point"));
        points.forEach(function (p) {
          var said = meaning(p.name, p.label);
          sel.appendChild(el("option", { value: p.name, text: p.name + (p.unit ? " (" + p.unit + ")" : "") + (said && said !== p.name ? " · " + said : "") }));
        });
        // Start on the first measured value (one with a unit), not a control or status word.
        var first = points.filter(function (p) { return p.unit; })[0];
        if (first) sel.value = first.name;
        $("readings-box").hidden = !points.length;
        if (points.length) drawChart();
        UI.get(api + "/plant").then(function (res) { if (res.ok) { drawLife(res.data); drawDevices(res.data); } });
        UI.get("/api/v1/pm/schedules?" + UI.queryString({ asset_id: assetId })).then(function (res) { if (res.ok) drawPm(res.data); });
      },
      totals: function (t) {
        var dl = $("history-totals");
        if (!dl || !t) return;
        UI.clear(dl);
        [[_("Labor"), t.labor], [_("Parts"), t.parts], [_("Other"), t.other], [_("Total cost"), t.total]].forEach(function (x) {
          UI.add(dl, el("div", null, [el("dt", { text: x[0] }), el("dd.n", { text: UI.number(x[1] || 0, 2) })]));
        });
        dl.hidden = !t.work_orders;
      },
    };
  }
  load();
})();
