// The office's overview (/ui/overview): every figure of GET /api/v1/overview as a tile linking to
// the list behind it; and the collectors' health (/ui/collectors) from /api/v1/overview/collectors.
// Both refresh every 30 s while the page is visible.
(function () {
  "use strict";
  var el = UI.el, $ = UI.$;
  var REFRESH_MS = 30000;

  function show(data) {
    $("loading").hidden = true;
    $("load-error").hidden = !!data;
  }
  function failed(res) {
    $("loading").hidden = true;
    var box = $("load-error");
    box.hidden = false;
    box.textContent = res && res.status === 0 ? _("No network: the figures cannot be loaded.") : _("The figures cannot be loaded ({status}).", { status: res ? res.status : 0 });
  }
  function updated(id) {
    $(id).textContent = _("Updated {t}", { t: UI.time(new Date()) });
  }

  // A figure as a tile: the count, what it counts, and a link to the list behind it.
  // kind: "bad" (something is wrong when > 0), "warn", or "" (just a count).
  function tile(fig, label, opts) {
    opts = opts || {};
    var n = fig ? fig.count : 0;
    var cls = "a.tile" + (n > 0 && opts.kind ? "." + opts.kind : "") + (opts.big ? ".big" : "") + (opts.cls ? "." + opts.cls : "");
    return el(cls, { href: fig ? fig.page : "#", dataset: { figure: opts.key || "", count: String(n) } }, [
      el("span.tile-n", { text: opts.text !== undefined ? opts.text : UI.number(n, 0) }),
      el("span.tile-label", { text: label }),
      opts.sub ? el("span.tile-sub", { text: opts.sub }) : null,
    ]);
  }
  function fill(id, tiles) {
    UI.add(UI.clear($(id)), tiles);
  }

  // --- /ui/overview ----------------------------------------------------------------------------
  function drawOverview(o) {
    var w = o.workorders, sla = o.sla, al = o.alerts, pm = o.pm, c = o.collectors;
    fill("ov-top", [
      tile(w.open, _("Open work orders"), { big: true, key: "open" }),
      tile(sla.breached, _("SLA breached"), { big: true, kind: "bad", key: "sla.breached" }),
      tile(sla.at_risk, _("SLA at risk"), { big: true, kind: "warn", key: "sla.at_risk" }),
      tile(al.firing, _("Alerts firing"), { big: true, kind: "bad", key: "alerts.firing", sub: al.unacknowledged.count ? _("{n} not acknowledged", { n: al.unacknowledged.count }) : "" }),
      tile(al.pending, _("Alerts pending"), { big: true, kind: "warn", key: "alerts.pending" }),
      tile(pm.overdue, _("PM overdue"), { big: true, kind: "bad", key: "pm.overdue" }),
    ]);
    fill("ov-priority", w.by_priority.map(function (f) {
      return tile(f, UI.PRIORITY[f.priority] || f.priority, { key: "priority." + f.priority, cls: "prio-" + f.priority, kind: f.priority === "P1" ? "bad" : "" });
    }));
    $("ov-month").textContent = pm.month;
    fill("ov-pm", [
      tile(pm.due, _("Due this month"), { key: "pm.due" }),
      tile(pm.done, _("Done"), { key: "pm.done", kind: "good" }),
      tile(pm.overdue, _("Overdue"), { key: "pm.overdue", kind: "bad" }),
    ]);
    fill("ov-building", w.by_building.map(function (f) {
      var name = f.building_id === null ? _("No building") : UI.zh && f.name_zh ? f.name_zh : f.name;
      return tile(f, name, { key: "building." + (f.building_id || "none") });
    }));
    var rep = $("ov-reporting");
    $("ov-collectors-error").hidden = !o.collectors_error;
    if (!c) {
      $("ov-collectors-error").textContent = _("The readings store cannot be read: {why}", { why: o.collectors_error || "" });
      rep.textContent = "";
      rep.className = "chip";
      UI.clear($("ov-collectors"));
    } else {
      reporting(rep, c.reporting, c.reported_at, c.stopped);
      fill("ov-collectors", [
        tile(c.devices_quarantined, _("Devices quarantined"), { kind: "bad", key: "collectors.quarantined", sub: _("of {n}", { n: c.devices }) }),
        tile(c.devices_unavailable, _("Devices not answering"), { kind: "warn", key: "collectors.unavailable" }),
        tile(c.links_down, _("Links down"), { kind: "bad", key: "collectors.links_down", sub: _("of {n}", { n: c.links }) }),
        tile(c.stale_points, _("Readings going stale"), { kind: "warn", key: "collectors.stale", sub: _("of {n} points", { n: c.points }) }),
        tile(c.buffer_depth, _("Readings waiting in buffers"), { kind: c.buffer_depth.count > 1000 ? "warn" : "", key: "collectors.buffer", sub: c.dropped ? _("{n} dropped", { n: UI.number(c.dropped, 0) }) : "" }),
      ]);
    }
  }
  function reporting(chip, ok, at, stopped) {
    chip.className = "chip " + (ok ? "ok" : "bad");
    if (ok) chip.textContent = _("reporting");
    else if (stopped) chip.textContent = _("stopped at {t}", { t: UI.dateTime(at) });
    else chip.textContent = at ? _("silent since {t}", { t: UI.dateTime(at) }) : _("no records yet");
  }

  // --- /ui/collectors --------------------------------------------------------------------------
  var STATE = {
    ok: _("answering"),
    quarantined: _("quarantined"),
    unavailable: _("not answering"),
    pending: _("not polled yet"),
    unknown: _("no record"),
  };
  function ago(iso) {
    if (!iso) return el("span.muted", { text: _("none within a day") });
    var s = (Date.now() - new Date(iso).getTime()) / 1000;
    return el("span", { title: UI.dateTime(iso), text: _("{span} ago", { span: UI.span(s) }) });
  }
  function every(seconds) {
    return seconds < 60 ? _("{n} s", { n: UI.number(seconds, 0) }) : UI.span(seconds);
  }
  var assetNames = null;
  function assetName(id) {
    var a = assetNames && assetNames[id];
    return a ? UI.name(a, "name") : id;
  }
  function drawCollectors(h) {
    reporting($("col-reporting"), h.reporting, h.reported_at, h.stopped);
    var bad = { quarantined: 0, unavailable: 1, unknown: 2, pending: 3, ok: 4 };
    var devices = h.devices.slice().sort(function (a, b) { return bad[a.state] - bad[b.state] || (a.id < b.id ? -1 : 1); });
    UI.add(UI.clear($("devices-body")), devices.map(function (d) {
      return el("tr", { dataset: { device: d.id, state: d.state } }, [
        el("td.data", { text: d.id }),
        el("td", null, el("a.data", { href: "/ui/assets/" + encodeURIComponent(d.asset_id), text: assetName(d.asset_id) })),
        el("td", null, el("span.chip.dev-" + d.state, { text: STATE[d.state] || d.state })),
        el("td", null, ago(d.last_good_at)),
        el("td.data.muted.col-link", { text: d.link }),
      ]);
    }));
    UI.add(UI.clear($("links-body")), h.links.map(function (l) {
      var state = l.up === null ? el("span.chip.dev-unknown", { text: _("no record") }) : l.up ? el("span.chip.dev-ok", { text: _("up") }) : el("span.chip.dev-quarantined", { text: _("down") });
      return el("tr", { dataset: { link: l.key } }, [el("td.data", { text: l.key }), el("td", null, state), el("td.n", { text: UI.number(l.reconnects, 0) }), el("td.n", { text: UI.number(l.errors, 0) })]);
    }));
    $("sinks-empty").hidden = h.sinks.length > 0;
    UI.add(UI.clear($("sinks-body")), h.sinks.map(function (s) {
      return el("tr", null, [el("td.data", { text: s.name }), el("td.n", { text: UI.number(s.buffer_depth, 0) }), el("td.n", { text: UI.number(s.dropped, 0) })]);
    }));
    $("stale-empty").hidden = h.stale.length > 0;
    UI.add(UI.clear($("stale-body")), h.stale.map(function (p) {
      return el("tr", { dataset: { asset: p.asset_id, point: p.point } }, [
        el("td", null, el("a.data", { href: "/ui/assets/" + encodeURIComponent(p.asset_id), text: assetName(p.asset_id) })),
        el("td.data", { text: p.point }),
        el("td.data", { text: p.device }),
        el("td", { text: every(p.interval_seconds) }),
        el("td", null, ago(p.last_good_at)),
      ]);
    }));
  }

  var overview = !!$("overview");
  var url = overview ? "/api/v1/overview" : "/api/v1/overview/collectors";
  function load() {
    if (!overview && assetNames === null) {
      assetNames = {};
      UI.get("/api/v1/assets").then(function (res) {
        (res.ok && res.data ? res.data : []).forEach(function (a) { assetNames[a.id] = a; });
        return load();
      });
      return Promise.resolve();
    }
    return UI.get(url).then(function (res) {
      if (!res.ok || !res.data) return failed(res);
      show(res.data);
      if (overview) {
        $("overview").hidden = false;
        drawOverview(res.data);
        updated("ov-updated");
      } else {
        $("collectors").hidden = false;
        drawCollectors(res.data);
        updated("col-updated");
        if (location.hash && !load.scrolled) {
          load.scrolled = true;
          var target = document.getElementById(location.hash.slice(1));
          if (target) target.scrollIntoView();
        }
      }
      document.body.dataset.loaded = "1";
    });
  }
  load();
  setInterval(function () {
    if (!document.hidden) load();
  }, REFRESH_MS);
})();
