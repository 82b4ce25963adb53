// The monthly contractor scorecard (/ui/scorecard): figures against the month before, on time by
// priority, every breach with its work order, disputes and their outcome, complaints, sign-off
// and revisions, CSV and XLSX downloads. Contractors dispute breaches; admins accept or reject
// disputes, record complaints and sign ended months off. Everything comes from the JSON API.
(function () {
  "use strict";
  var root = UI.$("sc");
  if (!root) return;
  var admin = root.dataset.admin === "1";
  var contractor = root.dataset.contractor === "1";
  var state = { org: root.dataset.org, month: root.dataset.month, card: null };
  var CLOCK = { response: _("Response"), resolution: _("Resolution") };
  var OUTCOME = { open: _("Open"), accepted: _("Accepted"), rejected: _("Rejected") };
  var SC = (window.SC = state);

  // --- helpers ----------------------------------------------------------------------------
  function pct(x) {
    return x === null || x === undefined ? "–" : UI.number(x, 1) + "%";
  }
  function money(x) {
    return x === null || x === undefined ? "–" : "¥" + UI.number(x, 2);
  }
  function hours(seconds) {
    return UI.span(seconds);
  }
  function api(method, url, body) {
    var headers = { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": PR.csrf };
    return fetch(url, { method: method, headers: headers, credentials: "same-origin", body: JSON.stringify(body || {}) })
      .then(function (res) {
        return res.json().catch(function () { return null; }).then(function (data) {
          return { ok: res.ok, status: res.status, data: data };
        });
      }, function () {
        return { ok: false, status: 0, data: { message: _("No network. Please try again.") } };
      });
  }
  function done(res, text) {
    if (res.ok) {
      UI.toast(text, "ok");
      load();
    } else {
      UI.toast(UI.errorText(res.data), "error");
    }
    return res;
  }
  function base() {
    return "/api/v1/contractors/" + state.org;
  }
  function shiftMonth(month, by) {
    var y = Number(month.slice(0, 4));
    var m = Number(month.slice(5, 7)) - 1 + by;
    y += Math.floor(m / 12);
    m = ((m % 12) + 12) % 12;
    return y + "-" + String(m + 1).padStart(2, "0");
  }
  function woLink(id, title) {
    return UI.el("a.row-link", { href: "/ui/workorders/" + id }, [UI.el("span.num", { text: "#" + id }), title ? " " : null, title ? UI.el("span.data.sc-wo-title", { text: title }) : null]);
  }
  function chip(status) {
    return UI.el("span.chip.sc-outcome.sc-" + status, { text: OUTCOME[status] || status });
  }

  // --- the dialog: one text and an OK --------------------------------------------------------
  var dlg = UI.$("sc-dialog");
  function ask(opts) {
    UI.$("sc-dialog-title").textContent = opts.title;
    UI.$("sc-dialog-what").textContent = opts.what || "";
    UI.$("sc-dialog-label").textContent = opts.label;
    UI.$("sc-dialog-ok").textContent = opts.ok;
    var area = dlg.querySelector("textarea");
    area.value = "";
    area.required = !!opts.required;
    return new Promise(function (resolve) {
      dlg.onclose = function () {
        resolve(dlg.returnValue === "ok" ? area.value.trim() : null);
      };
      dlg.returnValue = "";
      dlg.showModal();
      area.focus();
    });
  }

  // --- actions ----------------------------------------------------------------------------
  function dispute(b) {
    ask({
      title: _("Dispute this breach"),
      what: "#" + b.workorder_id + " " + b.title + " · " + CLOCK[b.clock],
      label: _("Why it should not count"),
      ok: _("Send dispute"),
      required: true,
    }).then(function (reason) {
      if (!reason) return;
      api("POST", base() + "/disputes", { month: state.month, workorder_id: b.workorder_id, clock: b.clock, reason: reason })
        .then(function (res) { done(res, _("Dispute sent")); });
    });
  }
  function decide(d, accept) {
    ask({
      title: accept ? _("Accept the dispute") : _("Reject the dispute"),
      what: "#" + d.workorder_id + " · " + CLOCK[d.clock] + " · " + d.reason,
      label: accept ? _("Note (optional)") : _("Why it is rejected"),
      ok: accept ? _("Accept: the breach no longer counts") : _("Reject"),
      required: !accept,
    }).then(function (note) {
      if (note === null || (!accept && !note)) return;
      var body = note ? { note: note } : {};
      api("POST", base() + "/disputes/" + d.id + (accept ? "/accept" : "/reject"), body)
        .then(function (res) { done(res, accept ? _("Dispute accepted") : _("Dispute rejected")); });
    });
  }
  function signOff() {
    ask({
      title: _("Sign the month off"),
      what: _("{firm}, {month}: score {score}, payment {pay}", { firm: state.card.contractor, month: state.month, score: pct(state.card.score), pay: money(state.card.payment) }),
      label: _("Note (optional)"),
      ok: _("Sign off"),
    }).then(function (note) {
      if (note === null) return;
      var body = { month: state.month };
      if (note) body.note = note;
      api("POST", base() + "/signoff", body).then(function (res) { done(res, _("Month signed off")); });
    });
  }
  function withdraw(c) {
    if (!window.confirm(_("Withdraw the complaint?") + "\n" + c.text)) return;
    Promise.resolve().then(function () {
      api("POST", base() + "/complaints/" + c.id + "/withdraw").then(function (res) { done(res, _("Complaint withdrawn")); });
    });
  }
  var form = UI.$("sc-complaint-form");
  if (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = { text: form.elements.text.value.trim() };
      var wo = form.elements.workorder_id.value.trim();
      var req = form.elements.request_id.value.trim();
      var on = form.elements.made_on.value;
      if (wo) body.workorder_id = Number(wo);
      if (req) body.request_id = Number(req);
      else if (on) body.made_at = on + "T12:00:00";
      api("POST", base() + "/complaints", body).then(function (res) {
        if (res.ok) {
          form.reset();
          UI.$("sc-complaint-add").open = false;
        }
        done(res, _("Complaint recorded"));
      });
    });
  }

  // --- drawing ----------------------------------------------------------------------------
  function figure(label, value, before, opts) {
    var kids = [UI.el("span.sc-fig-label", { text: label }), UI.el("span.sc-fig-value", { text: value })];
    if (before !== undefined) kids.push(UI.el("span.sc-fig-before", { text: _("Month before: {v}", { v: before }) }));
    return UI.el("div.card.sc-fig" + (opts && opts.bad ? ".bad" : ""), null, kids);
  }
  function drawFigures(c) {
    var p = c.previous || {};
    var has = !!c.previous;
    var counted = c.response.breached + c.resolution.breached;
    var box = UI.clear(UI.$("sc-figures"));
    var target = c.target_on_time_percent;
    UI.add(box, [
      figure(_("Score"), c.score === null ? _("Nothing due") : UI.number(c.score, 2), has ? (p.score === null ? _("Nothing due") : UI.number(p.score, 2)) : undefined, { bad: c.score !== null && c.score < c.payment_rule.full_fee_at }),
      figure(_("Payment"), money(c.payment), has ? money(p.payment) : undefined, { bad: c.payment !== null && c.monthly_fee !== null && c.payment < c.monthly_fee }),
      figure(_("On-time response"), pct(c.response.on_time_percent), has ? pct(p.response_on_time_percent) : undefined, { bad: c.response.on_time_percent !== null && c.response.on_time_percent < target }),
      figure(_("On-time resolution"), pct(c.resolution.on_time_percent), has ? pct(p.resolution_on_time_percent) : undefined, { bad: c.resolution.on_time_percent !== null && c.resolution.on_time_percent < target }),
      figure(_("Breaches counted"), String(counted), has ? String(p.breaches) : undefined, { bad: counted > 0 }),
      figure(_("Complaints"), String(c.complaints), has ? String(p.complaints) : undefined, { bad: c.complaints > 0 }),
    ]);
    var rule = c.payment_rule;
    var words = _("Full fee from a score of {full}; below it, ({base} + score)% of the fee of {fee}.", { full: rule.full_fee_at, base: rule.base_percent, fee: money(c.monthly_fee) });
    if (rule.deduction_per_complaint) words += " " + _("Less {amount} per complaint.", { amount: money(rule.deduction_per_complaint) });
    words += " " + _("Target on-time rate: {t}%.", { t: target });
    UI.add(box, UI.el("p.muted.sc-rule", { text: words }));
  }
  function drawSignoff(c) {
    var box = UI.clear(UI.$("sc-signoff"));
    var ended = new Date(c.as_of) >= new Date(c.end);
    var open = c.disputes.filter(function (d) { return d.status === "open"; }).length;
    if (c.signoff) {
      box.className = "sc-signoff card signed";
      UI.add(box, [
        UI.el("strong", { text: _("Signed off by {who} on {when}", { who: c.signoff.signed_by, when: UI.date(c.signoff.signed_at) + " " + UI.time(c.signoff.signed_at) }) }),
        c.signoff.note ? UI.el("span.data", { text: " · " + c.signoff.note }) : null,
        c.revised_after_signoff ? UI.el("span.chip.sc-revised", { text: _("Revised after sign-off") }) : null,
      ]);
    } else {
      box.className = "sc-signoff card";
      var text = !ended ? _("Month under way: figures as of now; it can be signed off once it has ended.") : open ? _("Not signed off: {n} dispute(s) still open.", { n: open }) : _("Not signed off yet.");
      UI.add(box, UI.el("span", { text: text }));
      if (admin && ended && !open) UI.add(box, UI.el("button.btn.primary", { type: "button", id: "sc-signoff-btn", onclick: signOff }, _("Sign off this month")));
    }
    if (c.provisional) UI.add(box, UI.el("p.banner.warn", { text: _("Provisional: {why}", { why: c.provisional_reason || "" }) }));
  }
  function drawPriorities(c) {
    var body = UI.clear(document.querySelector("#sc-prio tbody"));
    c.by_priority.forEach(function (row) {
      body.appendChild(UI.el("tr", null, [
        UI.el("th", { text: UI.PRIORITY[row.priority] || row.priority }),
        UI.el("td.n", { text: row.response.due ? String(row.response.on_time) : "–" }),
        UI.el("td.n" + (row.response.breached ? ".bad" : ""), { text: row.response.due ? String(row.response.breached) : "–" }),
        UI.el("td.n", { text: pct(row.response.on_time_percent) }),
        UI.el("td.n", { text: String(row.resolution.on_time) }),
        UI.el("td.n" + (row.resolution.breached ? ".bad" : ""), { text: String(row.resolution.breached) }),
        UI.el("td.n", { text: pct(row.resolution.on_time_percent) }),
      ]));
    });
    UI.$("sc-prio-empty").hidden = c.by_priority.length > 0;
  }
  function drawBreaches(list) {
    var body = UI.clear(document.querySelector("#sc-breaches tbody"));
    list.items.forEach(function (b) {
      var cell;
      if (b.dispute_status) {
        cell = [chip(b.dispute_status), b.counted ? null : UI.el("span.muted", { text: " " + _("does not count") })];
      } else if (contractor) {
        cell = UI.el("button.btn.sc-dispute", { type: "button", dataset: { wo: b.workorder_id, clock: b.clock }, onclick: function () { dispute(b); } }, _("Dispute"));
      } else {
        cell = UI.el("span.muted", { text: "–" });
      }
      body.appendChild(UI.el("tr" + (b.counted ? "" : ".excused"), { dataset: { wo: b.workorder_id, clock: b.clock } }, [
        UI.el("td.sc-wo", null, woLink(b.workorder_id, b.title)),
        UI.el("td.nowrap", { text: UI.PRIORITY[b.priority] || b.priority }),
        UI.el("td.nowrap", { text: CLOCK[b.clock] || b.clock }),
        UI.el("td.nowrap", { text: UI.dateTime(b.due_at) }),
        UI.el("td.nowrap", { text: b.met_at ? UI.dateTime(b.met_at) : _("not met") }),
        UI.el("td.n.nowrap", { text: hours(b.over_seconds) }),
        UI.el("td", null, cell),
      ]));
    });
    UI.$("sc-breaches-empty").hidden = list.items.length > 0;
  }
  function drawDisputes(c) {
    var ul = UI.clear(UI.$("sc-disputes"));
    c.disputes.forEach(function (d) {
      var li = UI.el("li.sc-item", { dataset: { dispute: d.id, status: d.status } }, [
        UI.el("div.sc-item-head", null, [chip(d.status), woLink(d.workorder_id), UI.el("span", { text: CLOCK[d.clock] || d.clock })]),
        UI.el("p.data", { text: d.reason }),
        UI.el("p.meta", { text: _("Raised by {who} on {when}", { who: d.raised_by, when: UI.date(d.raised_at) }) }),
        d.decided_by ? UI.el("p.meta", { text: (d.status === "accepted" ? _("Accepted by {who} on {when}", { who: d.decided_by, when: UI.date(d.decided_at) }) : _("Rejected by {who} on {when}", { who: d.decided_by, when: UI.date(d.decided_at) })) + (d.decision_note ? ": " : "") }, d.decision_note ? UI.el("span.data.sc-note", { text: d.decision_note }) : null) : null,
      ]);
      if (admin && d.status === "open") {
        UI.add(li, UI.el("div.actions", null, [
          UI.el("button.btn.sc-accept", { type: "button", onclick: function () { decide(d, true); } }, _("Accept")),
          UI.el("button.btn.danger.sc-reject", { type: "button", onclick: function () { decide(d, false); } }, _("Reject")),
        ]));
      }
      ul.appendChild(li);
    });
    UI.$("sc-disputes-empty").hidden = c.disputes.length > 0;
  }
  function drawComplaints(c) {
    var ul = UI.clear(UI.$("sc-complaints"));
    c.complaint_items.forEach(function (k) {
      var li = UI.el("li.sc-item" + (k.withdrawn ? ".withdrawn" : ""), { dataset: { complaint: k.id } }, [
        UI.el("div.sc-item-head", null, [
          UI.el("span.nowrap", { text: UI.date(k.made_at) }),
          k.request_id ? UI.el("span.chip", { text: _("Occupant request #{n}", { n: k.request_id }) }) : null,
          k.workorder_id ? woLink(k.workorder_id) : null,
          k.withdrawn ? UI.el("span.chip", { text: _("Withdrawn") }) : null,
        ]),
        UI.el("p.data", { text: k.text }),
      ]);
      if (admin && !k.withdrawn) UI.add(li, UI.el("button.btn.link", { type: "button", onclick: function () { withdraw(k); } }, _("Withdraw")));
      ul.appendChild(li);
    });
    UI.$("sc-complaints-empty").hidden = c.complaint_items.length > 0;
  }
  function drawRevisions(c) {
    var ul = UI.clear(UI.$("sc-revisions"));
    c.revisions.slice().reverse().forEach(function (r) {
      ul.appendChild(UI.el("li.sc-item", null, [
        UI.el("div.sc-item-head", null, [
          UI.el("span.nowrap", { text: UI.date(r.at) + " " + UI.time(r.at) }),
          r.after_signoff ? UI.el("span.chip.sc-revised", { text: _("After sign-off") }) : null,
        ]),
        UI.el("p", { text: _("Score {a} → {b}; payment {c} → {d}", { a: r.before.score === null ? "–" : r.before.score, b: r.after.score === null ? "–" : r.after.score, c: r.before.payment || "–", d: r.after.payment || "–" }) + ((r.before.complaints || 0) !== (r.after.complaints || 0) ? "; " + _("complaints {a} → {b}", { a: r.before.complaints || 0, b: r.after.complaints || 0 }) : "") }),
        UI.el("p.meta.data", { text: r.reason }),
      ]));
    });
    UI.$("sc-revisions-empty").hidden = c.revisions.length > 0;
  }
  function draw(c, breaches) {
    state.card = c;
    UI.$("sc-firm").textContent = c.contractor;
    UI.$("sc-asof").textContent = _("{month} · as of {when} · {n} work orders judged", { month: c.month, when: UI.date(c.as_of) + " " + UI.time(c.as_of), n: c.work_orders });
    drawSignoff(c);
    drawFigures(c);
    drawPriorities(c);
    drawBreaches(breaches);
    drawDisputes(c);
    drawComplaints(c);
    drawRevisions(c);
    UI.$("sc-body").hidden = false;
    UI.$("sc-loading").hidden = true;
    root.dataset.loaded = c.month;
  }

  // --- loading ----------------------------------------------------------------------------
  function links() {
    var q = "?month=" + encodeURIComponent(state.month);
    UI.$("sc-csv").href = base() + "/scorecard.csv" + q;
    UI.$("sc-xlsx").href = base() + "/scorecard.xlsx" + q + "&lang=" + (UI.zh ? "zh-CN" : "en");
    UI.$("sc-month").value = state.month;
    UI.$("sc-next").disabled = state.month >= root.dataset.thisMonth;
    history.replaceState(null, "", "?" + UI.queryString({ org: state.org, month: state.month }));
  }
  function load() {
    if (!state.org) {
      UI.$("sc-loading").hidden = true;
      return Promise.resolve();
    }
    links();
    delete root.dataset.loaded;
    UI.$("sc-error").hidden = true;
    var q = "?month=" + encodeURIComponent(state.month);
    // One after the other: each notes an ended month as reported (the first stores it).
    var first;
    return UI.get(base() + "/scorecard" + q).then(function (card) {
      first = card;
      return UI.get(base() + "/sla-breaches" + q);
    }).then(function (breaches) {
      var r = [first, breaches];
      if (!r[0].ok || !r[1].ok) {
        var box = UI.$("sc-error");
        box.hidden = false;
        box.textContent = r[0].status === 0 ? _("No network.") : UI.errorText(r[0].data || r[1].data);
        UI.$("sc-loading").hidden = true;
        UI.$("sc-body").hidden = true;
        return;
      }
      draw(r[0].data, r[1].data);
    });
  }
  SC.load = load;

  // --- wiring -----------------------------------------------------------------------------
  UI.$("sc-prev").addEventListener("click", function () {
    state.month = shiftMonth(state.month, -1);
    load();
  });
  UI.$("sc-next").addEventListener("click", function () {
    var next = shiftMonth(state.month, 1);
    if (next > root.dataset.thisMonth) return;
    state.month = next;
    load();
  });
  UI.$("sc-month").addEventListener("change", function (e) {
    if (/^\d{4}-\d{2}$/.test(e.target.value)) {
      state.month = e.target.value;
      load();
    }
  });
  var org = UI.$("sc-org");
  if (org) {
    org.addEventListener("change", function () {
      state.org = org.value;
      load();
    });
  }
  UI.$("sc-pick").addEventListener("submit", function (e) { e.preventDefault(); });
  load();
})();
