// My work, for a contractor: both SLA clocks on every card (list.js asks CW.clocks), and what is
// at risk this week above the list: open work whose running clock is breached already or falls
// due within the next 7 days, soonest first. Technicians never load this file.
(function () {
  "use strict";
  var WEEK_MS = 7 * 86400 * 1000;
  var LIMIT = 200;
  var CW = (window.CW = {});

  function when(iso) {
    return UI.date(iso).slice(5) + " " + UI.time(iso);
  }
  // One clock in words: met, breached, or due in / overdue by.
  function clockText(label, due, met, breached, now) {
    if (!due) return null;
    if (met) return UI.el("span.ok", { text: _("{clock}: met {t}", { clock: label, t: when(met) }) });
    var left = new Date(due).getTime() - now;
    if (breached || left < 0) return UI.el("span.bad", { text: _("{clock}: overdue by {span} (due {t})", { clock: label, span: UI.span(-left / 1000), t: when(due) }) });
    return UI.el("span" + (left < WEEK_MS ? ".warn" : ""), { text: _("{clock}: due in {span} ({t})", { clock: label, span: UI.span(left / 1000), t: when(due) }) });
  }
  // Both clocks of a work order, for its card.
  CW.clocks = function (wo) {
    var s = wo.sla || {};
    if (!s.response_due_at && !s.resolution_due_at) return null;
    var now = Date.now();
    return UI.el("div.clocks2", null, [
      clockText(_("Response"), s.response_due_at, s.response_met_at, s.response_breached, now),
      clockText(_("Resolution"), s.resolution_due_at, null, s.resolution_breached, now),
    ]);
  };
  // The clock that runs now and is at risk this week, or null.
  CW.risk = function (wo, now) {
    var s = wo.sla || {};
    var respond = s.response_due_at && !s.response_met_at;
    var due = respond ? s.response_due_at : s.resolution_due_at;
    if (!due || wo.status === "on_hold") return null;
    var breached = respond ? s.response_breached : s.resolution_breached;
    var left = new Date(due).getTime() - now;
    if (!breached && left > WEEK_MS) return null;
    return { which: respond ? "response" : "resolution", due: due, breached: breached || left < 0 };
  };

  var box = UI.$("risk");
  if (!box) return;
  function draw(items) {
    var now = Date.now();
    var risky = [];
    items.forEach(function (wo) {
      var r = CW.risk(wo, now);
      if (r) risky.push({ wo: wo, r: r });
    });
    risky.sort(function (a, b) { return new Date(a.r.due) - new Date(b.r.due); });
    var ul = UI.clear(UI.$("risk-list"));
    risky.forEach(function (x) {
      var wo = x.wo;
      ul.appendChild(UI.el("li.risk-item", { dataset: { id: wo.id } }, [
        UI.el("a", { href: "/ui/workorders/" + wo.id }, [UI.el("span.num", { text: "#" + wo.id }), " ", UI.el("span.data", { text: wo.title })]),
        UI.countdown(UI.el("span.countdown"), UI.nextDue(wo) || { which: x.r.which, due: x.r.due, breached: x.r.breached }),
        CW.clocks(wo),
      ]));
    });
    UI.$("risk-count").textContent = risky.length === 1 ? _("1 work order") : _("{n} work orders", { n: risky.length });
    UI.$("risk-empty").hidden = risky.length > 0;
    box.hidden = false;
    box.dataset.count = String(risky.length);
  }
  function load() {
    return UI.get("/api/v1/workorders?" + UI.queryString({ open: "true", sort: "urgency", limit: LIMIT })).then(function (res) {
      if (res.ok && res.data) draw(res.data.items || []);
    });
  }
  CW.load = load;
  load();
  setInterval(function () { if (!document.hidden && !UI.busy()) load(); }, 60000);
})();
