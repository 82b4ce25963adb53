// Shared by the tablet's pages: building DOM, labels in the page's language, times in the site's
// time zone, SLA countdowns, polling with ETag, and the new-P1 banner with its sound.
(function () {
  "use strict";
  var body = document.body;
  var lang = document.documentElement.lang || "en";
  var tz = body.dataset.tz || undefined;
  var UI = (window.UI = {});
  UI.lang = lang;
  UI.zh = lang === "zh-CN";
  UI.role = body.dataset.role || "";

  // --- DOM ---------------------------------------------------------------------------------
  // el("a.btn.primary", {href: "/"}, ["text", child]): class names after dots; props may hold
  // text, on{Event} handlers, dataset, hidden, and attributes.
  UI.el = function (spec, props, kids) {
    var parts = spec.split(".");
    var node = document.createElement(parts[0]);
    if (parts.length > 1) node.className = parts.slice(1).join(" ");
    var k;
    for (k in props || {}) {
      var v = props[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), v);
      else if (k === "hidden") node.hidden = true;
      else node.setAttribute(k, v === true ? "" : v);
    }
    UI.add(node, kids);
    return node;
  };
  UI.add = function (node, kids) {
    (Array.isArray(kids) ? kids : kids === undefined ? [] : [kids]).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    });
    return node;
  };
  UI.clear = function (node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  };
  UI.$ = function (id) {
    return document.getElementById(id);
  };

  // --- words -------------------------------------------------------------------------------
  UI.PRIORITY = {
    P1: _("P1 emergency"),
    P2: _("P2 urgent"),
    P3: _("P3 routine"),
    P4: _("P4 planned"),
  };
  UI.STATUS = {
    new: _("New"),
    assigned: _("Assigned"),
    acknowledged: _("Acknowledged"),
    in_progress: _("In progress"),
    on_hold: _("On hold"),
    resolved: _("Resolved"),
    verified: _("Verified"),
    closed: _("Closed"),
    cancelled: _("Cancelled"),
  };
  UI.HOLD = {
    parts: _("Waiting for parts"),
    access: _("No access"),
    contractor: _("Waiting for a contractor"),
    other: _("Other reason"),
  };
  UI.TYPE = {
    corrective: _("Corrective"),
    preventive: _("Preventive"),
    inspection: _("Inspection"),
    request: _("Request"),
  };
  // How the work order came to be, told truly: alert, preventive, inspection, occupant, manual.
  UI.origin = function (wo) {
    if (wo.origin === "alert") return { key: "alert", text: _("Alert") };
    if (wo.origin === "request" || wo.type === "request") return { key: "request", text: _("Occupant request") };
    if (wo.type === "inspection") return { key: "inspection", text: _("Inspection") };
    if (wo.origin === "pm" || wo.type === "preventive") return { key: "pm", text: _("Preventive") };
    return { key: "manual", text: _("Raised by hand") };
  };
  // A name from the data in the page's language: obj[field + "_zh"] in Chinese, when given.
  UI.name = function (obj, field) {
    if (!obj) return "";
    var zh = obj[field + "_zh"];
    return UI.zh && zh ? zh : obj[field] || "";
  };
  UI.statusText = function (wo) {
    var s = UI.STATUS[wo.status] || wo.status;
    return wo.status === "on_hold" && wo.hold_reason ? s + ": " + (UI.HOLD[wo.hold_reason] || wo.hold_reason) : s;
  };

  // --- times -------------------------------------------------------------------------------
  function parts(iso, opts) {
    var d = iso instanceof Date ? iso : new Date(iso);
    var fmt = new Intl.DateTimeFormat("en-GB", Object.assign({ timeZone: tz, hourCycle: "h23" }, opts));
    var out = {};
    fmt.formatToParts(d).forEach(function (p) {
      out[p.type] = p.value;
    });
    return out;
  }
  UI.time = function (iso) {
    if (!iso) return "";
    var p = parts(iso, { hour: "2-digit", minute: "2-digit" });
    return p.hour + ":" + p.minute;
  };
  UI.dateTime = function (iso) {
    if (!iso) return "";
    var p = parts(iso, { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
    return p.month + "-" + p.day + " " + p.hour + ":" + p.minute;
  };
  UI.date = function (iso) {
    if (!iso) return "";
    var p = parts(iso, { year: "numeric", month: "2-digit", day: "2-digit" });
    return p.year + "-" + p.month + "-" + p.day;
  };
  // A span of time, to the minute: "2 d 3 h", "1 h 5 min", "12 min", "<1 min".
  UI.span = function (seconds) {
    var s = Math.abs(seconds);
    var d = Math.floor(s / 86400);
    var h = Math.floor((s % 86400) / 3600);
    var m = Math.floor((s % 3600) / 60);
    if (d > 0) return _("{d} d {h} h", { d: d, h: h });
    if (h > 0) return _("{h} h {m} min", { h: h, m: m });
    if (m > 0) return _("{m} min", { m: m });
    return _("<1 min");
  };
  UI.number = function (x, digits) {
    return Number(x).toLocaleString(UI.zh ? "zh-CN" : "en-GB", {
      minimumFractionDigits: digits || 0,
      maximumFractionDigits: digits === undefined ? 2 : digits,
    });
  };

  // --- SLA ---------------------------------------------------------------------------------
  // The deadline the crew works to next, as the list's urgency sort has it: respond by, until
  // responded to, then resolve by.
  UI.nextDue = function (wo) {
    var sla = wo.sla || {};
    var respond = sla.response_due_at && !sla.response_met_at;
    var due = wo.next_due_at || (respond ? sla.response_due_at : sla.resolution_due_at);
    if (!due) return null;
    return {
      which: respond ? "response" : "resolution",
      due: due,
      breached: respond ? sla.response_breached : sla.resolution_breached,
      paused: wo.status === "on_hold" && !respond,
      provisional: !!sla.provisional,
    };
  };
  // Fills el with the countdown to next (from UI.nextDue), and keeps it current (UI.tick).
  UI.countdown = function (el, next) {
    el.dataset.due = next.due;
    el.dataset.which = next.which;
    if (next.paused) el.dataset.paused = "1";
    if (next.breached) el.dataset.breached = "1";
    if (next.provisional) el.dataset.provisional = "1";
    UI.clear(el);
    UI.add(el, [UI.el("span.cd-time"), UI.el("span.cd-label")]);
    render(el, Date.now());
    return el;
  };
  function render(el, now) {
    var left = (new Date(el.dataset.due).getTime() - now) / 1000;
    var missed = left < 0 || el.dataset.breached === "1";
    var paused = el.dataset.paused === "1";
    var respond = el.dataset.which === "response";
    var label;
    if (paused) label = _("clock paused");
    else if (missed) label = respond ? _("overdue to respond") : _("overdue to resolve");
    else label = respond ? _("to respond") : _("to resolve");
    if (el.dataset.provisional === "1") label += " · " + _("provisional");
    el.classList.toggle("missed", missed && !paused);
    el.classList.toggle("paused", paused);
    el.classList.toggle("soon", !missed && !paused && left < 3600);
    el.firstChild.textContent = paused ? UI.dateTime(el.dataset.due) : UI.span(left);
    el.lastChild.textContent = label;
    el.title = (respond ? _("Respond by {t}", { t: UI.dateTime(el.dataset.due) }) : _("Resolve by {t}", { t: UI.dateTime(el.dataset.due) }));
  }
  UI.tick = function () {
    var now = Date.now();
    var list = document.querySelectorAll("[data-due]");
    for (var i = 0; i < list.length; i++) render(list[i], now);
  };
  setInterval(UI.tick, 15000);

  // --- talking to the API ------------------------------------------------------------------
  // True while the technician types or a dialog is open: live updates wait.
  UI.busy = function () {
    if (window.PR && PR.busy) return PR.busy();
    var a = document.activeElement;
    return !!(document.querySelector("dialog[open]") || (a && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName)));
  };
  // A conditional GET for polling: 304 while unchanged. Resolves {status, data, etag}; status 0
  // when the network is down (an answer from the tablet's cache is no news either).
  UI.poll = function (url, etag) {
    return PR.api.get(url, { etag: etag }).then(function (r) {
      if (r.fromCache || r.status === 0) return { status: 0, data: null, etag: etag };
      if (r.status !== 200 || !r.data) return { status: r.status, data: null, etag: etag };
      return { status: 200, data: r.data, etag: r.etag };
    });
  };
  UI.get = function (url) {
    return PR.api.get(url);
  };
  UI.act = function (action) {
    return PR.api.act(action);
  };
  // Say what became of an action, in a toast.
  UI.report = function (res, done) {
    if (res.state === "sent") UI.toast(done || _("Saved"), "ok");
    else if (res.state === "queued") UI.toast(_("Saved on this tablet; it will be sent when the network returns."), "warn");
    else if (res.state === "failed") UI.toast(UI.errorText(res.error), "error");
    return res;
  };
  UI.errorText = function (err) {
    if (!err) return _("That did not work. Please try again.");
    var msg = typeof err === "string" ? err : err.error || err.detail || "";
    return msg ? _("Refused: {why}", { why: typeof msg === "string" ? msg : JSON.stringify(msg) }) : _("That did not work. Please try again.");
  };
  var toastTimer;
  UI.toast = function (text, kind) {
    var t = UI.$("toast");
    if (!t) {
      t = UI.el("div.toast", { id: "toast", role: "status", "aria-live": "polite" });
      body.appendChild(t);
    }
    t.className = "toast show " + (kind || "");
    t.textContent = text;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () {
      t.className = "toast";
    }, 4000);
  };
  UI.queryString = function (params) {
    var q = [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (v === null || v === undefined || v === "") return;
      (Array.isArray(v) ? v : [v]).forEach(function (x) {
        q.push(encodeURIComponent(k) + "=" + encodeURIComponent(x));
      });
    });
    return q.join("&");
  };

  // A work order as a line: the card of the lists (my work, an asset's open work). opts.mine:
  // the list is the user's own work, so the card need not say whose it is.
  UI.card = function (wo, extra, opts) {
    var origin = UI.origin(wo);
    var asset = UI.name(wo, "asset_name");
    // The location names the building first; without one, the building alone.
    var where = UI.name(wo, "location") || UI.name(wo, "building_name");
    var next = UI.nextDue(wo);
    var chips = [
      UI.el("span.chip.prio", { text: UI.PRIORITY[wo.priority] || wo.priority }),
      UI.el("span.chip.status.status-" + wo.status, { text: UI.statusText(wo) }),
      UI.el("span.chip.origin.origin-" + origin.key, { text: origin.text }),
    ];
    if (wo.awaiting_proof) chips.push(UI.el("span.chip.proof", { text: _("Awaiting proof") }));
    var who = opts && opts.mine ? null : wo.assignee_name || wo.contractor_name;
    var link = UI.el("a.wo-link", { href: "/ui/workorders/" + wo.id }, [
      UI.el("div.wo-main", null, [
        UI.el("div.wo-chips", null, chips),
        UI.el("div.wo-title", null, [UI.el("span.num", { text: "#" + wo.id }), " ", UI.el("span.title.data", { text: wo.title })]),
        UI.el("div.wo-where", null, [
          asset ? UI.el("span.asset.data", { text: asset }) : null,
          where ? UI.el("span.loc.data", { text: where }) : null,
          who ? UI.el("span.who", null, [_("Assigned to") + " ", UI.el("span.data", { text: who })]) : null,
        ]),
      ]),
      next ? UI.countdown(UI.el("span.countdown"), next) : UI.el("span.countdown.none", { text: _("No SLA") }),
    ]);
    return UI.el("li.wo.prio-" + wo.priority, { dataset: { id: wo.id, version: wo.version } }, [link, extra]);
  };

  // --- a new P1: banner and sound on every signed-in tablet -----------------------------------
  var audio = null;
  function unlockAudio() {
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!audio && AC) audio = new AC();
    if (audio && audio.state === "suspended") audio.resume();
  }
  document.addEventListener("pointerdown", unlockAudio, true);
  document.addEventListener("keydown", unlockAudio, true);
  // Three short tones from an oscillator (no sound file to load or cache).
  UI.sound = function () {
    try {
      unlockAudio();
      if (!audio) return false;
      var t = audio.currentTime + 0.05;
      for (var i = 0; i < 3; i++) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.type = "square";
        osc.frequency.value = i % 2 ? 660 : 880;
        gain.gain.setValueAtTime(0.0001, t + i * 0.4);
        gain.gain.exponentialRampToValueAtTime(0.3, t + i * 0.4 + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.4 + 0.3);
        osc.connect(gain).connect(audio.destination);
        osc.start(t + i * 0.4);
        osc.stop(t + i * 0.4 + 0.32);
      }
      body.dataset.alarmSounds = String(Number(body.dataset.alarmSounds || 0) + 1);
      return true;
    } catch (e) {
      return false;
    }
  };
  var P1_URL = "/api/v1/workorders?priority=P1&open=true&sort=-id&limit=5";
  var store = window.sessionStorage;
  var alarmTag = null;
  function alarms() {
    try {
      return JSON.parse(store.getItem("pr.p1.shown") || "[]");
    } catch (e) {
      return [];
    }
  }
  function showAlarms() {
    var box = UI.$("alarm");
    if (!box) return;
    var list = alarms();
    UI.clear(box);
    box.hidden = !list.length;
    list.forEach(function (a) {
      UI.add(box, UI.el("div.alarm-row", { dataset: { id: a.id } }, [
        UI.el("span.alarm-icon", { "aria-hidden": "true", text: "!" }),
        UI.el("span.alarm-text", null, [UI.el("b", { text: _("New P1 emergency") }), " #" + a.id + " ", UI.el("span.data", { text: a.title + (a.where ? " · " + a.where : "") })]),
        UI.el("a.btn.alarm-open", { href: "/ui/workorders/" + a.id, onclick: function () { dismiss(a.id); } }, _("Open")),
        UI.el("button.btn.alarm-dismiss", { type: "button", onclick: function () { dismiss(a.id); } }, _("Dismiss")),
      ]));
    });
  }
  function dismiss(id) {
    store.setItem("pr.p1.shown", JSON.stringify(alarms().filter(function (a) { return a.id !== id; })));
    showAlarms();
  }
  // Any open P1 this tablet has not seen, newer than the newest it saw when it first loaded.
  UI.checkAlarms = function () {
    return UI.poll(P1_URL, alarmTag).then(function (r) {
      if (r.status !== 200 || !r.data) return;
      alarmTag = r.etag;
      var items = r.data.items || [];
      var base = store.getItem("pr.p1.base");
      if (base === null) {
        store.setItem("pr.p1.base", String(items.reduce(function (m, w) { return Math.max(m, w.id); }, 0)));
        return;
      }
      var seen = JSON.parse(store.getItem("pr.p1.seen") || "[]");
      var fresh = items.filter(function (w) { return w.id > Number(base) && seen.indexOf(w.id) < 0; });
      if (!fresh.length) return;
      var shown = alarms();
      fresh.forEach(function (w) {
        seen.push(w.id);
        var where = [UI.name(w, "asset_name"), UI.name(w, "location")].filter(Boolean).join(" · ");
        shown.push({ id: w.id, title: w.title, where: where });
        body.dataset.lastAlarm = String(w.id);
      });
      store.setItem("pr.p1.seen", JSON.stringify(seen.slice(-200)));
      store.setItem("pr.p1.shown", JSON.stringify(shown.slice(-5)));
      showAlarms();
      UI.sound();
    });
  };
  UI.POLL_MS = 10000;
  if (body.dataset.user) {
    showAlarms();
    UI.checkAlarms();
    setInterval(function () {
      if (!document.hidden) UI.checkAlarms();
    }, UI.POLL_MS);
  }
})();
