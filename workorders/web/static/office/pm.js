// The PM calendar: a month of preventive work from GET /api/v1/pm/calendar, as a month grid on a
// wide screen and an agenda by day on a narrow one; statutory jobs marked, late ones flagged,
// each job linked to its work order (or, while only scheduled, to its asset).
(function () {
  "use strict";
  var $ = UI.$, el = UI.el;
  var STATE = {
    scheduled: _("Scheduled"),
    open: _("Not done yet"),
    done: _("Done"),
    late: _("Late"),
    overdue: _("Overdue"),
    cancelled: _("Cancelled"),
    missed: _("Not opened"),
  };
  var params = new URLSearchParams(location.search);
  var month = /^\d{4}-\d{2}$/.test(params.get("month") || "") ? params.get("month") : null;
  var data = null;

  function shift(m, by) {
    var y = Number(m.slice(0, 4)), mo = Number(m.slice(5, 7)) - 1 + by;
    y += Math.floor(mo / 12);
    mo = ((mo % 12) + 12) % 12;
    return y + "-" + String(mo + 1).padStart(2, "0");
  }
  function monthName(m) {
    var d = new Date(Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5, 7)) - 1, 15));
    return new Intl.DateTimeFormat(UI.zh ? "zh-CN" : "en-GB", { year: "numeric", month: "long", timeZone: "UTC" }).format(d);
  }
  function weekdayNames() {
    var fmt = new Intl.DateTimeFormat(UI.zh ? "zh-CN" : "en-GB", { weekday: "short", timeZone: "UTC" });
    var out = [];
    for (var i = 0; i < 7; i++) out.push(fmt.format(new Date(Date.UTC(2026, 0, 5 + i)))); // Mon 5 Jan 2026
    return out;
  }

  // Why a job is late, in words.
  function lateText(it) {
    if (it.state === "missed") return _("never opened");
    if (!it.late) return "";
    if (it.late.reason === "gap" && it.late.gap_days !== null) {
      return _("{days} days since the last one; the limit is {limit}", { days: it.late.gap_days, limit: it.late.max_gap_days });
    }
    return it.state === "overdue" ? _("not done by its due date") : _("done after its due date");
  }

  function job(it, long) {
    var href = it.workorder_id ? "/ui/workorders/" + it.workorder_id : "/ui/assets/" + encodeURIComponent(it.asset_id);
    var why = lateText(it);
    var label = [
      it.statutory ? _("Statutory") : "",
      STATE[it.state],
      UI.name(it, "schedule_name"),
      UI.name(it, "asset_name"),
      why,
    ].filter(Boolean).join(" · ");
    return el("a.job.state-" + it.state + (it.statutory ? ".statutory" : ""), {
      href: href,
      title: label,
      "aria-label": label,
      dataset: { state: it.state, schedule: it.schedule_id, asset: it.asset_id, wo: it.workorder_id || "" },
    }, [
      el("span.job-top", null, [
        it.statutory ? el("span.stat-mark", { text: "§", title: _("Statutory") }) : null,
        el("span.job-state", { text: STATE[it.state] }),
        it.workorder_id ? el("span.job-num", { text: "#" + it.workorder_id }) : null,
        long ? el("span.job-time", { text: UI.time(it.due_at) }) : null,
      ]),
      el("span.job-name.data", { text: UI.name(it, "schedule_name") }),
      el("span.job-asset.data", { text: UI.name(it, "asset_name") }),
      why ? el("span.job-why", { text: why }) : null,
    ]);
  }

  function shown() {
    var stat = $("only-statutory").checked, bad = $("only-problems").checked, bldg = $("only-building").value;
    return data.items.filter(function (it) {
      return (!stat || it.statutory) && (!bldg || it.building_id === bldg) &&
        (!bad || it.state === "late" || it.state === "overdue" || it.state === "missed");
    });
  }
  function buildings() {
    var sel = $("only-building"), seen = {};
    var keep = sel.value || params.get("building") || "";
    while (sel.options.length > 1) sel.remove(1);
    data.items.forEach(function (it) {
      if (!it.building_id || seen[it.building_id]) return;
      seen[it.building_id] = true;
      sel.appendChild(el("option", { value: it.building_id, text: UI.name(it, "building_name") }));
    });
    if (seen[keep]) sel.value = keep;
  }

  function figure(key, value, label, extra) {
    return el("div.figure.fig-" + key, { dataset: { key: key } }, [
      el("span.fig-value", { text: value }),
      el("span.fig-label", { text: label }),
      extra ? el("span.fig-extra", { text: extra }) : null,
    ]);
  }
  function drawFigures() {
    var f = data.figures, c = data.compliance;
    var pct = c.percent === null ? "–" : UI.number(c.percent, 1) + " %";
    var box = UI.clear($("figures"));
    UI.add(box, [
      figure("total", f.total, _("Due this month")),
      figure("done", f.done, _("Done on time")),
      figure("late", f.late, _("Done late")),
      figure("overdue", f.overdue + f.missed, _("Overdue"), f.missed ? _("{n} never opened", { n: f.missed }) : null),
      figure("open", f.open + f.scheduled, _("Still to do"), _("{open} open, {scheduled} scheduled", { open: f.open, scheduled: f.scheduled })),
      figure("statutory", f.statutory_late, _("Statutory limit missed")),
      figure("compliance", pct, _("PM compliance"), _("target {target} %", { target: UI.number(c.target_percent, 0) })),
    ]);
    var comp = box.querySelector(".fig-compliance");
    if (c.percent !== null) comp.classList.add(c.percent >= c.target_percent ? "good" : "bad");
    if (f.statutory_late) box.querySelector(".fig-statutory").classList.add("bad");
    if (f.overdue + f.missed) box.querySelector(".fig-overdue").classList.add("bad");
    box.hidden = false;
  }

  function drawGrid(items) {
    var byDay = {};
    items.forEach(function (it) { (byDay[it.date] = byDay[it.date] || []).push(it); });
    var y = Number(data.month.slice(0, 4)), m = Number(data.month.slice(5, 7));
    var first = new Date(Date.UTC(y, m - 1, 1));
    var days = new Date(Date.UTC(y, m, 0)).getUTCDate();
    var lead = (first.getUTCDay() + 6) % 7; // Monday first
    var today = UI.date(new Date());
    var grid = UI.clear($("cal"));
    weekdayNames().forEach(function (w) { grid.appendChild(el("div.cal-head", { role: "columnheader", text: w })); });
    for (var i = 0; i < lead; i++) grid.appendChild(el("div.cal-day.outside", { "aria-hidden": "true" }));
    for (var d = 1; d <= days; d++) {
      var key = data.month + "-" + String(d).padStart(2, "0");
      var list = byDay[key] || [];
      var cls = "div.cal-day" + (key === today ? ".today" : "") + (list.some(function (x) { return x.state === "late" || x.state === "overdue" || x.state === "missed"; }) ? ".has-late" : "");
      grid.appendChild(el(cls, { role: "gridcell", dataset: { date: key } }, [
        el("span.cal-num", { text: String(d) }),
        el("div.cal-jobs", null, list.map(function (it) { return job(it, false); })),
      ]));
    }
    var tail = (lead + days) % 7;
    for (var j = 0; tail && j < 7 - tail; j++) grid.appendChild(el("div.cal-day.outside", { "aria-hidden": "true" }));
  }

  function drawAgenda(items) {
    var box = UI.clear($("agenda"));
    var fmt = new Intl.DateTimeFormat(UI.zh ? "zh-CN" : "en-GB", { weekday: "long", month: "long", day: "numeric", timeZone: "UTC" });
    var last = null, list = null;
    items.forEach(function (it) {
      if (it.date !== last) {
        last = it.date;
        var d = new Date(it.date + "T12:00:00Z");
        list = el("div.agenda-jobs");
        box.appendChild(el("section.agenda-day", { dataset: { date: it.date } }, [el("h2", { text: fmt.format(d) }), list]));
      }
      list.appendChild(job(it, true));
    });
  }

  function draw() {
    var items = shown();
    drawGrid(items);
    drawAgenda(items);
    $("cal").hidden = false;
    $("agenda").hidden = false;
    $("cal-empty").hidden = items.length > 0;
  }

  function nav() {
    var m = month;
    $("month-label").textContent = monthName(m);
    $("month-prev").href = "/ui/pm?month=" + shift(m, -1);
    $("month-next").href = "/ui/pm?month=" + shift(m, 1);
    $("prev-label").textContent = monthName(shift(m, -1));
    $("next-label").textContent = monthName(shift(m, 1));
  }

  function load() {
    var url = "/api/v1/pm/calendar" + (month ? "?month=" + month : "");
    UI.get(url).then(function (res) {
      $("loading").hidden = true;
      if (!res.ok) {
        $("load-error").hidden = false;
        $("load-error").textContent = _("The PM calendar could not be loaded.");
        return;
      }
      data = res.data;
      nav();
      drawFigures();
      $("pm-tools").hidden = false;
      buildings();
      draw();
      document.body.dataset.loaded = data.month;
    });
  }
  // The links work before the data comes: this month on the site's calendar by default.
  if (!month) month = UI.date(new Date()).slice(0, 7);
  nav();
  $("only-statutory").addEventListener("change", function () { if (data) draw(); });
  $("only-problems").addEventListener("change", function () { if (data) draw(); });
  $("only-building").addEventListener("change", function () { if (data) draw(); });
  load();
})();
