// The work-order page: everything about one job, and every action on it through PR.api.act, so
// an action taken offline waits on the tablet and is sent later. Actions not yet synced are
// listed and shown on the page as they will be.
(function () {
  "use strict";
  var $ = UI.$, el = UI.el;
  var id = Number(location.pathname.replace(/\/+$/, "").split("/").pop());
  var base = "/api/v1/workorders/" + id;
  var MOVES = JSON.parse($("moves").textContent || "{}");
  var me = Number(document.body.dataset.user);
  var wo = null; // the work order as the server last answered
  var etag = null;
  var pending = []; // actions waiting on this tablet
  var attachments = [];
  var codes = null;
  var chartAt = 0;
  var TAKERS = ["technician", "engineer", "admin"];
  var OPEN = ["new", "assigned", "acknowledged", "in_progress", "on_hold"];

  // --- the page as it will be once the waiting actions are sent ----------------------------
  function view() {
    var v = JSON.parse(JSON.stringify(wo));
    pending.forEach(function (p) {
      if (p.state === "failed" || p.state === "conflict") return; // not going to happen as it is
      var b = p.body || {};
      var mark = { pending: true, ts: p.at, actor: _("me (waiting to sync)") };
      if (p.kind === "status") {
        v.statusPending = true;
        v.status = b.status;
        v.hold_reason = b.status === "on_hold" ? b.reason : null;
        v.allowed_transitions = MOVES[b.status] || [];
      } else if (p.kind === "take") {
        v.assignee_id = me;
        v.assignee_name = _("me (waiting to sync)");
        if (v.status === "new") {
          v.status = "assigned";
          v.allowed_transitions = MOVES.assigned || [];
        }
      } else if (p.kind === "check") {
        // The line is the index in the action's url: /workorders/{id}/checklist/{i}.
        var m = /\/checklist\/(\d+)$/.exec(p.url || "");
        var line = m ? v.checklist[Number(m[1])] : null;
        if (line) Object.assign(line, { done: b.done, result: b.result, pending: true });
      } else if (p.kind === "comment") {
        v.events.push(Object.assign({ kind: "comment", message: b.text }, mark));
      } else if (p.kind === "labor") {
        v.labor.push(Object.assign({ worker: mark.actor, hours: b.hours, note: b.note || "" }, mark));
      } else if (p.kind === "part") {
        v.parts.push(Object.assign({}, b, mark));
      } else if (p.kind === "cost") {
        v.costs.push(Object.assign({}, b, mark));
      }
    });
    return v;
  }
  function isOpen(v) {
    return OPEN.indexOf(v.status) >= 0;
  }

  // --- drawing ----------------------------------------------------------------------------
  function fact(dl, term, value) {
    if (value === null || value === undefined || value === "") return;
    UI.add(dl, el("div", null, [el("dt", { text: term }), el("dd", null, value)]));
  }
  function draw() {
    var v = view();
    document.title = "#" + v.id + " " + v.title + " · " + _("Plantroom");
    var head = $("head");
    head.className = "card wo-head prio-edge prio-" + v.priority;
    var origin = UI.origin(v);
    var chips = [
      el("span.chip.prio.prio-" + v.priority, { text: UI.PRIORITY[v.priority] }),
      el("span.chip.status.status-" + v.status + (v.statusPending ? ".is-pending" : ""), { text: UI.statusText(v), title: v.statusPending ? _("waiting to sync") : null }),
      el("span.chip.origin.origin-" + origin.key, { text: origin.text }),
    ];
    // The type, when the origin's label does not say it already.
    if (v.type === "corrective" || (v.type === "preventive" && origin.key !== "pm")) chips.push(el("span.chip.type", { text: UI.TYPE[v.type] }));
    if (v.awaiting_proof) chips.push(el("span.chip.proof", { text: _("Awaiting proof") }));
    UI.add(UI.clear($("chips")), chips);
    $("num").textContent = "#" + v.id;
    $("title").textContent = v.title;
    var facts = UI.clear($("facts"));
    if (v.asset_id) {
      fact(facts, _("Asset"), el("a", { href: "/ui/assets/" + encodeURIComponent(v.asset_id), class: "data" }, UI.name(v, "asset_name") || v.asset_id));
    }
    // The location names the building first; without one, the building alone.
    if (v.location) fact(facts, _("Location"), el("span.data", { text: UI.name(v, "location") }));
    else fact(facts, _("Building"), el("span.data", { text: UI.name(v, "building_name") }));
    var who = v.assignee_name || v.contractor_name;
    fact(facts, _("Assigned to"), who ? el("span.data", { text: who }) : el("span.muted", { text: _("Nobody yet") }));
    fact(facts, _("Opened"), UI.dateTime(v.created_at));
    if (v.resolved_at) fact(facts, _("Resolved"), UI.dateTime(v.resolved_at));

    var proof = $("proof");
    proof.hidden = !v.awaiting_proof;
    if (v.awaiting_proof) {
      proof.textContent = v.proof_until
        ? _("Awaiting proof until {t}: if the alert has not cleared by then, the work order reopens.", { t: UI.time(v.proof_until) })
        : _("Awaiting proof: the work order reopens if the alert does not clear.");
    }
    drawPending();
    drawActions(v);
    drawAlert(v);
    drawRequest(v);
    drawStatutory(v);
    var desc = v.request ? "" : v.description;
    $("desc-box").hidden = !desc;
    $("desc").textContent = desc || "";
    drawClocks(v);
    drawChecklist(v);
    drawCosts(v);
    drawPhotos();
    drawComments(v);
    drawTimeline(v);
    loadAudit(v);
    UI.tick();
  }

  function drawPending() {
    var box = $("pending");
    box.hidden = !pending.length;
    UI.add(UI.clear($("pending-list")), pending.map(function (p) {
      var why = p.state === "failed" ? " · " + _("refused: {why}", { why: (p.error && p.error.error) || "" })
        : p.state === "conflict" ? " · " + _("conflict: choose a version") : "";
      return el("li" + (p.state === "failed" ? ".error" : ""), { text: p.label + (p.at ? " · " + UI.time(p.at) : "") + why });
    }));
  }

  var ACTIONS = ["take", "acknowledged", "in_progress", "on_hold", "resolved", "verified", "closed", "cancelled"];
  function drawActions(v) {
    var box = UI.clear($("actions"));
    var allowed = v.allowed_transitions || [];
    ACTIONS.forEach(function (t) {
      var b = null;
      if (t === "take") {
        if (TAKERS.indexOf(UI.role) >= 0 && isOpen(v) && !v.assignee_id && !v.contractor_id) {
          b = el("button.btn.primary.take", { type: "button", onclick: take }, _("Take"));
        }
      } else if (allowed.indexOf(t) >= 0) {
        if (t === "acknowledged") b = el("button.btn.primary", { type: "button", onclick: function () { move("acknowledged", {}, _("Acknowledge")); } }, _("Acknowledge"));
        if (t === "in_progress") {
          var label = v.status === "on_hold" ? _("Resume work") : isOpen(v) ? _("Start work") : _("Reopen");
          b = el("button.btn.primary", { type: "button", onclick: function () { move("in_progress", {}, label); } }, label);
        }
        if (t === "on_hold") b = el("button.btn.hold", { type: "button", onclick: openHold }, _("Put on hold"));
        if (t === "resolved") b = el("button.btn.resolve", { type: "button", onclick: openResolve }, _("Resolve"));
        if (t === "verified") b = el("button.btn", { type: "button", onclick: function () { confirmMove("verified", _("Verify the fix?"), _("Verify")); } }, _("Verify"));
        if (t === "closed") b = el("button.btn", { type: "button", onclick: function () { confirmMove("closed", _("Close this work order?"), _("Close")); } }, _("Close"));
        if (t === "cancelled") b = el("button.btn.danger", { type: "button", onclick: function () { confirmMove("cancelled", _("Cancel this work order?"), _("Cancel work order")); } }, _("Cancel work order"));
      }
      if (b) {
        b.dataset.action = t;
        box.appendChild(b);
      }
    });
    drawOfficeActions(v, box, allowed);
  }

  // --- the office: assign to a technician or a contractor, reopen, the audit trail ----------
  var OFFICE = UI.role === "admin" || UI.role === "engineer";
  var FINAL = ["verified", "closed", "cancelled"];
  var assignees = null;
  function drawOfficeActions(v, box, allowed) {
    if (!OFFICE || v.statusPending) return;
    if (isOpen(v)) {
      var assign = el("button.btn", { type: "button", onclick: openAssign }, v.assignee_id || v.contractor_id ? _("Reassign") : _("Assign"));
      assign.dataset.action = "assign";
      box.insertBefore(assign, box.firstChild);
    }
    // A cancelled work order has no move left; the office reopens it (in_progress after a close
    // is a move of its own, "Reopen" above).
    if (FINAL.indexOf(v.status) >= 0 && allowed.indexOf("in_progress") < 0) {
      var again = el("button.btn.primary", { type: "button", onclick: function () { confirmReopen(); } }, _("Reopen"));
      again.dataset.action = "reopen";
      box.appendChild(again);
    }
  }
  function loadAssignees() {
    if (assignees) return Promise.resolve(assignees);
    return UI.get("/api/v1/assignees").then(function (res) {
      assignees = res.ok && res.data ? res.data : { people: [], contractors: [] };
      return assignees;
    });
  }
  var ROLE_WORD = { admin: _("administrator"), engineer: _("engineer"), technician: _("technician"), contractor: _("contractor"), requester: _("requester") };
  function fillAssign(select, who, v) {
    UI.clear(select);
    select.appendChild(el("option", { value: "", text: _("Nobody (unassign)") }));
    var firms = {};
    who.contractors.forEach(function (f) { firms[f.id] = f.name; });
    var groups = [
      [_("Our people"), who.people.filter(function (p) { return p.role !== "contractor"; }).map(function (p) {
        return ["u:" + p.id, p.display_name + " (" + (ROLE_WORD[p.role] || p.role) + ")"];
      })],
      [_("Contractor firms"), who.contractors.map(function (f) { return ["c:" + f.id, f.name]; })],
      [_("A firm's person"), who.people.filter(function (p) { return p.role === "contractor" && firms[p.organisation_id]; }).map(function (p) {
        return ["u:" + p.id + ":" + p.organisation_id, p.display_name + " · " + firms[p.organisation_id]];
      })],
    ];
    groups.forEach(function (g) {
      if (!g[1].length) return;
      select.appendChild(el("optgroup", { label: g[0] }, g[1].map(function (o) { return el("option", { value: o[0], text: o[1] }); })));
    });
    var now = v.assignee_id ? "u:" + v.assignee_id + (v.contractor_id ? ":" + v.contractor_id : "") : v.contractor_id ? "c:" + v.contractor_id : "";
    select.value = now;
    if (select.value !== now) select.value = "";
  }
  function openAssign() {
    var dlg = $("assign-dlg");
    if (!dlg) return;
    loadAssignees().then(function (who) {
      fillAssign($("assign-target"), who, view());
      dlg.returnValue = "";
      dlg.showModal();
    });
  }
  if ($("assign-dlg")) {
    dialog("assign-dlg", function (form) {
      var parts = (form.elements.target.value || "").split(":");
      var body = { assignee_id: null, contractor_id: null };
      if (parts[0] === "c") body.contractor_id = Number(parts[1]);
      if (parts[0] === "u") {
        body.assignee_id = Number(parts[1]);
        if (parts[2]) body.contractor_id = Number(parts[2]);
      }
      var label = form.elements.target.selectedOptions[0] ? form.elements.target.selectedOptions[0].textContent : "";
      act({ kind: "assign", label: _("Assign: {who}", { who: label }), method: "POST", url: base + "/assign", body: body }, _("Assigned"));
    });
  }
  function confirmReopen() {
    confirmTarget = { reopen: true, label: _("Reopen") };
    $("confirm-title").textContent = _("Reopen this work order?");
    $("confirm-ok").textContent = _("Reopen");
    confirmDlg.returnValue = "";
    confirmDlg.showModal();
  }
  function reopen(note) {
    return act({ kind: "reopen", label: _("Reopen"), method: "POST", url: base + "/reopen", body: { note: note } }, _("Reopened"));
  }

  var AUDIT_ACTION = {
    create: _("Created"),
    status: _("Status"),
    assign: _("Assigned"),
    take: _("Taken"),
    update: _("Edited"),
    comment: _("Comment"),
    checklist: _("Checklist"),
    sla: _("SLA clocks"),
    labor: _("Labor booked"),
    part: _("Part booked"),
    cost: _("Cost booked"),
    attachment: _("File added"),
  };
  var AUDIT_FIELD = {
    status: _("Status"),
    priority: _("Priority"),
    title: _("Title"),
    description: _("Description"),
    assignee_id: _("Assignee"),
    contractor_id: _("Contractor firm"),
    hold_reason: _("Hold reason"),
    asset_id: _("Asset"),
    type: _("Type"),
    cause_code: _("Cause"),
    resolution_code: _("What was done"),
    cost_total: _("Total cost"),
    response_due_at: _("Respond by"),
    resolution_due_at: _("Resolve by"),
    due_at: _("Due"),
    text: _("Comment"),
  };
  var auditAt = null;
  function auditValue(key, val) {
    if (val === null || val === undefined || val === "") return "—";
    if (key === "status") return UI.STATUS[val] || val;
    if (key === "hold_reason") return UI.HOLD[val] || val;
    if (key === "priority") return UI.PRIORITY[val] || val;
    if (key === "type") return UI.TYPE[val] || val;
    if (/_at$/.test(key) && typeof val === "string") return UI.dateTime(val);
    if (key === "assignee_id" && assignees) {
      var p = assignees.people.filter(function (x) { return x.id === val; })[0];
      if (p) return p.display_name;
    }
    if (key === "contractor_id" && assignees) {
      var f = assignees.contractors.filter(function (x) { return x.id === val; })[0];
      if (f) return f.name;
    }
    if (typeof val === "object") return JSON.stringify(val);
    return String(val);
  }
  function drawAudit(entries) {
    var tbody = $("audit") && $("audit").tBodies[0];
    if (!tbody) return;
    UI.clear(tbody);
    entries.slice().reverse().forEach(function (e) {
      var before = e.before || {};
      var after = e.after || {};
      var keys = Object.keys(after).filter(function (k) { return k !== "checklist" && k !== "event_id"; });
      if (e.action === "create") keys = keys.filter(function (k) { return after[k] !== null && after[k] !== "" && after[k] !== 0; });
      var changes = keys.map(function (k) {
        return el("span.change", null, [
          el("b", { text: (AUDIT_FIELD[k] || k) + ": " }),
          e.action !== "create" && k in before ? el("span.old.data", { text: auditValue(k, before[k]) }) : null,
          e.action !== "create" && k in before ? " → " : null,
          el("span.data", { text: auditValue(k, after[k]) }),
        ]);
      });
      tbody.appendChild(el("tr", { dataset: { action: e.action } }, [
        el("td.when", { text: UI.dateTime(e.ts) }),
        el("td", null, [el("span.data", { text: e.actor }), e.actor_role ? el("span.muted", { text: " · " + (ROLE_WORD[e.actor_role] || e.actor_role) }) : null]),
        el("td", { text: AUDIT_ACTION[e.action] || e.action }),
        el("td", null, changes),
      ]));
    });
    $("audit-empty").hidden = entries.length > 0;
  }
  function loadAudit(v) {
    if (!OFFICE || !$("audit-box")) return;
    var tag = v.id + "." + v.version + "." + v.events.length;
    if (tag === auditAt) return;
    auditAt = tag;
    Promise.all([loadAssignees(), UI.get(base + "/audit")]).then(function (got) {
      var res = got[1];
      if (res.ok && Array.isArray(res.data)) drawAudit(res.data);
    });
  }

  var ALERT_STATE = {
    firing: _("Firing now"),
    pending: _("About to fire"),
    nodata: _("No data"),
    error: _("Reading error"),
    resolved: _("Cleared"),
  };
  // The alert is still live: resolving now leaves the fix to be proven.
  function live(a) {
    return !!(a && a.state && a.state !== "resolved");
  }
  function drawAlert(v) {
    var a = v.alert;
    var trig = v.trigger;
    $("alert-box").hidden = !(a || trig);
    if (!(a || trig)) return;
    var words = a && a.words ? a.words[UI.lang] || a.words.en : trig && trig.rule;
    var ruleName = a ? UI.name(a, "rule_name") : "";
    var rw = UI.clear($("rule-words"));
    if (ruleName) UI.add(rw, [el("b", { text: ruleName }), el("br")]);
    UI.add(rw, words || "");
    var facts = UI.clear($("alert-facts"));
    if (a && a.state) {
      fact(facts, _("State now"), [el("span.chip.alert-" + a.state, { text: ALERT_STATE[a.state] || a.state }), a.silenced ? el("span.chip", { text: _("Silenced") }) : null]);
    }
    if (a) {
      fact(facts, _("Since"), UI.dateTime(a.started_at));
      if (a.cleared_at) fact(facts, _("Cleared"), UI.dateTime(a.cleared_at));
    }
    if (trig && trig.value !== undefined) {
      fact(facts, _("Triggered by"), el("span.data", { text: trig.point + " = " + UI.number(trig.value, undefined) + (trig.unit ? " " + trig.unit : "") + " · " + UI.dateTime(trig.ts) }));
    }
    if (Date.now() - chartAt > 55000) drawChart(v);
  }
  // The rule's point from an hour before the trigger until now, with the threshold.
  function drawChart(v) {
    var a = v.alert || {};
    var trig = v.trigger || {};
    var point = a.point || trig.point;
    var svg = $("chart");
    $("chart-box").hidden = !(point && v.asset_id);
    if (!point || !v.asset_id) return;
    chartAt = Date.now();
    var start = new Date(trig.ts || a.started_at || v.created_at).getTime();
    var from = start - 3600 * 1000;
    var to = Date.now();
    var unit = a.unit || trig.unit || "";
    var threshold = a.threshold === undefined ? null : a.threshold;
    var url = "/api/v1/assets/" + encodeURIComponent(v.asset_id) + "/readings?" + UI.queryString({
      point: point,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
    });
    UI.add(UI.clear($("chart-caption")), [
      el("span.data", { text: point }),
      " · " + _("from an hour before the alert until now"),
      threshold !== null ? " · " + _("dashed line: the threshold") + " " : null,
      threshold !== null ? el("span.data", { text: threshold + (unit ? " " + unit : "") }) : null,
    ]);
    UI.get(url).then(function (res) {
      var pts = res.ok && res.data ? res.data.points : [];
      PRChart.draw(svg, {
        points: pts,
        from: from,
        to: to,
        threshold: threshold,
        thresholdLabel: threshold !== null ? _("threshold") + " " + threshold + (unit ? " " + unit : "") : "",
        mark: start,
        unit: (res.data && res.data.unit) || unit,
        timeLabel: UI.time,
        empty: res.ok ? _("No readings in this period.") : _("Readings are not available offline."),
      });
    });
  }

  function drawRequest(v) {
    var r = v.request;
    $("request-box").hidden = !r;
    if (!r) return;
    $("request-text").textContent = r.text || v.description || "";
    var facts = UI.clear($("request-facts"));
    fact(facts, _("Reported by"), r.reporter === "occupant" ? _("An occupant (no sign-in)") : el("span.data", { text: r.reporter }));
    fact(facts, _("Contact"), r.contact ? el("span.data", { text: r.contact }) : el("span.muted", { text: _("None given") }));
    var ids = r.photos || [];
    UI.add(UI.clear($("request-photos")), attachments.filter(function (a) { return ids.indexOf(a.id) >= 0; }).map(thumb));
  }

  function drawStatutory(v) {
    var items = v.statutory || [];
    $("statutory-box").hidden = !items.length;
    UI.add(UI.clear($("statutory")), items.map(function (s) {
      return el("li", null, [el("span.data", { text: s.item }), s.basis ? el("span.basis.data", { text: s.basis }) : null]);
    }));
  }

  var CLOCK = { response: _("Response"), resolution: _("Resolution") };
  var CLOCK_STATE = { running: _("Running"), paused: _("Paused"), met: _("Met"), cancelled: _("Cancelled") };
  function drawClocks(v) {
    var box = UI.clear($("clocks"));
    var clocks = v.sla_clocks || [];
    if (!clocks.length) {
      box.appendChild(el("p.muted", { text: _("No SLA applies to this work order.") }));
      return;
    }
    clocks.forEach(function (c) {
      var state = c.breached && c.state !== "met" ? _("Breached") : CLOCK_STATE[c.state] || c.state;
      var right;
      if (c.state === "running") {
        right = UI.countdown(el("span.countdown"), { which: c.clock, due: c.due_at, breached: c.breached, paused: false, provisional: c.provisional });
      } else if (c.state === "paused") {
        right = el("span.countdown.paused", null, [el("span.cd-time", { text: UI.span(c.remaining_seconds) }), el("span.cd-label", { text: c.remaining_seconds < 0 ? _("over, clock paused") : _("left, clock paused") })]);
      } else if (c.state === "met") {
        right = el("span.countdown.met", null, [el("span.cd-time", { text: UI.time(c.met_at) }), el("span.cd-label", { text: c.breached ? _("met late") : _("met in time") })]);
      } else {
        right = el("span.countdown.none", { text: state });
      }
      box.appendChild(el("div.clock.clock-" + c.state + (c.breached ? ".breached" : ""), { dataset: { clock: c.clock } }, [
        el("div.clock-main", null, [
          el("b", { text: CLOCK[c.clock] || c.clock }),
          el("span.chip.clock-state", { text: state }),
          el("span.clock-due", { text: _("due {t}", { t: UI.dateTime(c.due_at) }) }),
          c.provisional ? el("span.chip.provisional", { text: _("provisional"), title: _("Provisional: next year's official holidays are not loaded yet, so weekdays are counted as working days") }) : null,
        ]),
        right,
      ]));
    });
  }

  function drawChecklist(v) {
    var list = UI.clear($("checklist"));
    $("checklist-empty").hidden = v.checklist.length > 0;
    v.checklist.forEach(function (item, i) {
      var box = el("input", { type: "checkbox", "aria-label": item.item });
      box.checked = !!item.done;
      var result = el("input.result", { type: "text", maxlength: "2000", placeholder: _("Result"), "aria-label": _("Result") + ": " + item.item, value: item.result || "" });
      function save() {
        check(i, box.checked, result.value, item.item);
      }
      box.addEventListener("change", save);
      result.addEventListener("change", save);
      var by = item.pending ? _("waiting to sync") : item.by ? item.by + (item.at ? " · " + UI.dateTime(item.at) : "") : "";
      list.appendChild(el("li.check" + (item.done ? ".done" : "") + (item.pending ? ".is-pending" : ""), { dataset: { index: i } }, [
        el("label.check-label", null, [box, el("span.data", { text: item.item })]),
        result,
        by ? el("span.check-by", { text: by }) : null,
      ]));
    });
  }

  function rows(table, items, cells) {
    var tbody = UI.clear($(table).tBodies[0]);
    items.forEach(function (x) {
      tbody.appendChild(el("tr" + (x.pending ? ".is-pending" : ""), null, cells(x).map(function (c, i) {
        var numeric = typeof c === "number" || (c && c.classList && c.classList.contains("n"));
        return el("td" + (numeric ? ".n" : ""), null, typeof c === "number" ? UI.number(c, 2) : c);
      })));
    });
    $(table).hidden = !items.length;
  }
  function drawCosts(v) {
    rows("labor", v.labor, function (x) { return [el("span.data", { text: x.worker }), x.hours, el("span.data", { text: x.note || "" })]; });
    rows("parts", v.parts, function (x) { return [el("span.data", { text: x.part }), el("span.data", { text: x.part_number || "" }), el("span.n", null, [UI.number(x.quantity) + " ", el("span.data", { text: x.unit || "" })]), x.unit_cost]; });
    rows("costs", v.costs, function (x) { return [el("span.data", { text: x.description }), x.amount]; });
    $("cost-total").textContent = _("Total cost: {amount}", { amount: UI.number((v.cost_totals || {}).total || 0, 2) });
  }

  function thumb(a) {
    if (a.content_type.indexOf("image/") === 0) {
      return el("a.thumb", { href: a.url, target: "_blank", rel: "noopener" }, el("img", { src: a.url, alt: a.filename, loading: "lazy" }));
    }
    return el("a.thumb.file", { href: a.url, target: "_blank", rel: "noopener", text: a.filename });
  }
  function drawPhotos() {
    var box = UI.clear($("photos"));
    var requestPhotos = (wo.request && wo.request.photos) || [];
    attachments.forEach(function (a) {
      if (requestPhotos.indexOf(a.id) < 0) box.appendChild(thumb(a));
    });
    var waiting = pending.filter(function (p) { return p.kind === "photo"; }).length;
    if (waiting) box.appendChild(el("p.muted.is-pending", { text: _("Photos waiting to sync: {n}", { n: waiting }) }));
  }

  function drawComments(v) {
    var comments = v.events.filter(function (e) { return e.kind === "comment"; }).reverse();
    UI.add(UI.clear($("comments")), comments.map(function (e) {
      return el("li" + (e.pending ? ".is-pending" : ""), null, [
        el("div.meta", null, [el("b.data", { text: e.actor }), " · " + UI.dateTime(e.ts)]),
        el("p.data", { text: e.message }),
      ]);
    }));
  }

  var KINDS = {
    created: _("Work order opened"),
    status: _("Status"),
    comment: _("Comment"),
    labor: _("Labor booked"),
    part: _("Part booked"),
    cost: _("Cost booked"),
    attachment: _("File added"),
    assigned: _("Assigned"),
    taken: _("Taken"),
    edited: _("Edited"),
    alert_linked: _("Alert linked"),
    alert_refired: _("Alert fired again"),
    alert_cleared: _("Alert cleared"),
    reopened: _("Reopened"),
    awaiting_proof: _("Awaiting proof"),
    proof_held: _("Fix held"),
    sla_warning: _("SLA warning"),
    sla_breach: _("SLA breached"),
    sla_withdrawn: _("SLA entry withdrawn"),
  };
  // Whose the entry is: the app's own jobs by name, people by their username.
  var ACTORS = { alerts: _("Alert system"), pm: _("Preventive schedule"), sla: _("SLA clock") };
  var REASON = { fix_not_held: _("the fix did not hold") };
  // The server's own words for a status change it made.
  var SYSTEM_NOTE = { "alert fired again": _("the alert fired again"), "the fix did not hold": "" };
  // Kinds whose message is data (a title, a file name, what a person wrote), shown as it is.
  var MESSAGE_IS_DATA = { created: true, comment: true, attachment: true, alert_linked: true, alert_refired: true };

  // A translated sentence with some of its {placeholders} filled by data (kept apart as .data).
  function fill(text, values) {
    return text.split(/(\{\w+\})/).filter(Boolean).map(function (part) {
      var k = /^\{(\w+)\}$/.exec(part);
      return k && values[k[1]] !== undefined ? el("span.data", { text: String(values[k[1]]) }) : part;
    });
  }
  var STATE_WORD = { firing: _("firing"), pending: _("about to fire"), nodata: _("without data"), error: _("in error"), resolved: _("cleared") };
  function stateText(s) {
    return STATE_WORD[s] || s || "";
  }
  function between(from, to) {
    return from && to ? (new Date(to) - new Date(from)) / 1000 : null;
  }
  // What happened, in the page's language, from the entry's kind and data; the server's English
  // message only for a kind this page does not know.
  function what(e, v) {
    var d = e.data || {};
    var system = Object.prototype.hasOwnProperty.call(ACTORS, e.actor);
    switch (e.kind) {
      case "status": {
        var s = (UI.STATUS[d.from] || d.from || "") + " → " + (UI.STATUS[d.to] || d.to || "");
        if (d.reason) s += " (" + (UI.HOLD[d.reason] || REASON[d.reason] || d.reason) + ")";
        // A person's note is theirs (data); the app's own notes are said here, or left out.
        if (!system) return { head: s, msg: !!e.message };
        return { head: s, text: SYSTEM_NOTE[e.message] || null };
      }
      case "labor":
      case "part":
      case "cost":
        return { head: d.amount ? UI.number(d.amount, 2) : "" };
      case "assigned": {
        var def = d["default"];
        // Names as the work order has them now, else as the site's default gave them.
        var who = d.assignee_id && d.assignee_id === v.assignee_id ? v.assignee_name
          : d.contractor_id && d.contractor_id === v.contractor_id ? v.contractor_name
          : def ? def.user || def.contractor : null;
        var parts = [];
        if (who) parts = parts.concat(fill(_("to {who}"), { who: who }));
        if (def) {
          var building = def.building && def.building === v.building_id ? UI.name(v, "building_name") || def.building : def.building;
          var scope = def.building && def["class"] ? _("by the site's default for {class} in {building}")
            : def["class"] ? _("by the site's default for {class}")
            : def.building ? _("by the site's default for {building}") : _("by the site's default");
          parts = parts.concat([" "], fill(scope, { "class": def["class"], building: building }));
        }
        return { text: parts.length ? parts : null };
      }
      case "taken":
        return { text: _("Took the work order into their own work.") };
      case "awaiting_proof":
        return {
          text: _("Resolved while the alert is still {state}: if it is still so {window} after the resolve, the work order reopens.", {
            state: stateText(d.alert_state), window: UI.span(d.proof_window || 0),
          }),
        };
      case "proof_held":
        return {
          text: d.after_seconds === null || d.after_seconds === undefined ? _("The alert cleared: the fix held.")
            : _("The alert cleared {after} after the resolve: the fix held.", { after: UI.span(d.after_seconds) }),
        };
      case "reopened": {
        if (d.reason !== "fix_not_held") return { text: _("The alert fired again after the resolve.") };
        var txt = d.alert_state
          ? _("The alert was still {state} {window} after the resolve, so the fix did not hold.", { state: stateText(d.alert_state), window: UI.span(d.proof_window || 0) })
          : _("The alert fired again while the fix awaited proof, so the fix did not hold.");
        var late = between(d.resolved_at, d.cleared_at);
        if (late !== null) txt += " " + _("It cleared only {after} after the resolve.", { after: UI.span(late) });
        return { text: txt };
      }
      case "alert_cleared":
        return { text: _("The signal is back in range.") };
      case "edited":
        return { text: d.fields && d.fields.length ? fill(_("Changed: {fields}"), { fields: d.fields.join(", ") }) : null };
      case "sla_warning":
      case "sla_breach":
        return { text: _("{clock} clock, due {t}", { clock: CLOCK[d.clock] || d.clock, t: d.due_at ? UI.dateTime(d.due_at) : "" }) };
      case "sla_withdrawn":
        return { text: _("{clock} clock: recomputed from the status history, the threshold was not crossed.", { clock: CLOCK[d.clock] || d.clock }) };
      default:
        return { msg: !!e.message }; // a kind this page does not know: the server's words
    }
  }
  function drawTimeline(v) {
    var events = v.events.slice().sort(function (a, b) { return new Date(b.ts) - new Date(a.ts); });
    UI.add(UI.clear($("timeline")), events.map(function (e) {
      var w = what(e, v);
      var showMsg = e.message && (w.msg || MESSAGE_IS_DATA[e.kind]);
      var actor = ACTORS[e.actor] ? el("span.ev-actor", { text: " · " + ACTORS[e.actor] }) : el("span.ev-actor", null, [" · ", el("span.data", { text: e.actor })]);
      return el("li.ev.ev-" + e.kind + (e.pending ? ".is-pending" : ""), null, [
        el("span.ev-time", { text: UI.dateTime(e.ts) }),
        el("div.ev-body", null, [
          el("b", { text: KINDS[e.kind] || e.kind.replace(/_/g, " ") }),
          w.head ? " " + w.head : "",
          actor,
          w.text ? el("p.ev-msg", null, w.text) : null,
          showMsg ? el("p.ev-msg.data", { text: e.message }) : null,
        ]),
      ]);
    }));
  }

  // --- actions ----------------------------------------------------------------------------
  // One action at a time: each states the version the previous one's answer left (two quick
  // taps would otherwise both name the same version, and the second would conflict).
  // While an action is on its way to the queue or the server, the page draws nothing else: a
  // draw from an older answer or pending list would undo what the technician just did (a ticked
  // box flipping back). The last action to finish draws.
  var inFlight = Promise.resolve();
  var acting = 0;
  function act(action, done) {
    acting += 1;
    var run = inFlight.then(function () {
      return UI.act(Object.assign({ woId: id, ifMatch: wo.version }, action));
    }).then(function (res) {
      UI.report(res, done);
      if (res.state === "sent" && res.data && res.data.id === id && res.data.events) {
        wo = res.data;
        etag = '"' + wo.version + '"';
      }
      return refreshPending().then(function () {
        acting -= 1;
        if (acting) return;
        if (res.state === "sent" && !(res.data && res.data.events)) return load();
        draw();
      }).then(function () { return res; });
    }, function (err) {
      acting -= 1;
      throw err;
    });
    inFlight = run.catch(function () {});
    return run;
  }
  function move(target, extra, label) {
    return act({
      kind: "status",
      label: label,
      method: "POST",
      url: base + "/status",
      body: Object.assign({ status: target }, extra),
    }, label + " ✓");
  }
  function take() {
    return act({ kind: "take", label: _("Take"), method: "POST", url: base + "/take", body: {} }, _("Taken: now in my work"));
  }
  function check(i, done, result, item) {
    return act({
      kind: "check",
      label: _("Checklist: {item}", { item: item }),
      method: "POST",
      url: base + "/checklist/" + i,
      body: { done: done, result: result },
    });
  }
  function formValues(form) {
    var out = {};
    [].forEach.call(form.elements, function (f) {
      if (f.name) out[f.name] = f.type === "number" ? (f.value === "" ? undefined : Number(f.value)) : f.value.trim();
    });
    return out;
  }
  function onSubmit(formId, build) {
    var form = $(formId);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var action = build(formValues(form));
      form.querySelector("button").disabled = true;
      act(action).then(function (res) {
        form.querySelector("button").disabled = false;
        if (res.state === "sent" || res.state === "queued") {
          form.reset();
          var d = form.closest("details");
          if (d) d.open = false;
          if (document.activeElement) document.activeElement.blur();
        }
      });
    });
  }
  onSubmit("labor-form", function (f) {
    return { kind: "labor", label: _("Labor {h} h", { h: f.hours }), method: "POST", url: base + "/labor", body: { hours: f.hours, note: f.note } };
  });
  onSubmit("part-form", function (f) {
    return {
      kind: "part",
      label: _("Part: {name}", { name: f.part }),
      method: "POST",
      url: base + "/parts",
      body: { part: f.part, part_number: f.part_number, quantity: f.quantity, unit: f.unit || "pcs", unit_cost: f.unit_cost || 0 },
    };
  });
  onSubmit("cost-form", function (f) {
    return { kind: "cost", label: _("Cost: {name}", { name: f.description }), method: "POST", url: base + "/costs", body: { description: f.description, amount: f.amount } };
  });
  onSubmit("comment-form", function (f) {
    return { kind: "comment", label: _("Comment"), method: "POST", url: base + "/comments", body: { text: f.text } };
  });
  $("photo-input").addEventListener("change", function () {
    var file = this.files && this.files[0];
    var input = this;
    if (!file) return;
    act({
      kind: "photo",
      label: _("Photo: {name}", { name: file.name }),
      method: "POST",
      url: base + "/attachments",
      body: {},
      file: { field: "file", blob: file, name: file.name },
    }, _("Photo added")).then(function () {
      input.value = "";
    });
  });

  // --- dialogs ----------------------------------------------------------------------------
  function dialog(dlgId, onOk) {
    var dlg = $(dlgId);
    dlg.addEventListener("close", function () {
      if (dlg.returnValue === "ok") onOk(dlg.querySelector("form"));
      dlg.querySelector("form").reset();
    });
    return dlg;
  }
  var holdDlg = dialog("hold-dlg", function (form) {
    move("on_hold", { reason: form.elements.reason.value, note: form.elements.note.value.trim() }, _("Put on hold"));
  });
  var holdForm = $("hold-form");
  holdForm.elements.reason.addEventListener("change", function () {
    holdForm.elements.note.required = this.value === "other";
  });
  function openHold() {
    holdDlg.returnValue = "";
    holdForm.elements.note.required = holdForm.elements.reason.value === "other";
    holdDlg.showModal();
  }

  var resolveDlg = dialog("resolve-dlg", function (form) {
    var extra = { note: form.elements.note.value.trim() };
    if (form.elements.cause_code.value) extra.cause_code = form.elements.cause_code.value;
    if (form.elements.resolution_code.value) extra.resolution_code = form.elements.resolution_code.value;
    move("resolved", extra, _("Resolve"));
  });
  function fillCodes(select, list) {
    UI.clear(select);
    select.appendChild(el("option", { value: "", text: _("Choose…") }));
    list.forEach(function (c) {
      select.appendChild(el("option", { value: c.code, text: UI.name(c, "name") || c.code }));
    });
    select.required = list.length > 0;
    select.closest("label").hidden = !list.length;
  }
  function openResolve() {
    var v = view();
    var firing = live(v.alert);
    $("resolve-firing").hidden = !firing;
    $("resolve-ok").textContent = firing ? _("Resolve anyway") : _("Resolve");
    resolveDlg.returnValue = "";
    var ready = codes ? Promise.resolve(codes) : UI.get("/api/v1/codes").then(function (res) {
      codes = res.ok && res.data ? res.data : { cause: [], resolution: [] };
      return codes;
    });
    ready.then(function (c) {
      fillCodes($("cause-code"), c.cause || []);
      fillCodes($("resolution-code"), c.resolution || []);
      resolveDlg.showModal();
    });
  }

  var confirmTarget = null;
  var confirmDlg = dialog("confirm-dlg", function (form) {
    if (confirmTarget.reopen) return reopen(form.elements.note.value.trim());
    move(confirmTarget.status, { note: form.elements.note.value.trim() }, confirmTarget.label);
  });
  function confirmMove(status, question, label) {
    confirmTarget = { status: status, label: label };
    $("confirm-title").textContent = question;
    $("confirm-ok").textContent = label;
    confirmDlg.returnValue = "";
    confirmDlg.showModal();
  }

  // --- loading and staying current --------------------------------------------------------
  function refreshPending() {
    if (!window.PR || !PR.api.pending) return Promise.resolve();
    return PR.api.pending(id).then(function (list) {
      pending = list || [];
    }, function () {});
  }
  function loadAttachments() {
    return UI.get(base + "/attachments").then(function (res) {
      if (res.ok && Array.isArray(res.data)) attachments = res.data;
    });
  }
  function load() {
    return UI.get(base).then(function (res) {
      if (!res.ok) {
        $("loading").hidden = true;
        var err = $("load-error");
        err.hidden = false;
        err.textContent = res.status === 0 ? _("No network, and this work order is not saved on the tablet.") : _("This work order could not be loaded.");
        return;
      }
      wo = res.data;
      etag = res.etag || '"' + wo.version + '"';
      return Promise.all([loadAttachments(), refreshPending()]).then(function () {
        $("loading").hidden = true;
        $("wo").hidden = false;
        draw();
        document.body.dataset.version = String(wo.version);
      });
    });
  }
  // Redraw with the waiting actions as they are now, unless an action is on its way (its end
  // draws).
  function redraw() {
    return refreshPending().then(function () {
      if (acting || !wo) return;
      draw();
      document.body.dataset.version = String(wo.version);
    });
  }
  // Bumped by each action queued: a poll that started before one does not draw (its pending
  // list may predate the action).
  var queuedGen = 0;
  // Live: a conditional GET every 10 s; redraw only when it changed and nobody is typing.
  window.WO = {
    refresh: function () {
      if (!wo || UI.busy() || document.hidden || acting) return Promise.resolve(false);
      var gen = queuedGen;
      var stale = function () { return acting || gen !== queuedGen || UI.busy(); };
      return UI.poll(base, etag).then(function (r) {
        if (r.status !== 200 || !r.data || stale()) return false;
        var fresh = r.data;
        var tag = r.etag || '"' + fresh.version + '"';
        return loadAttachments().then(function () {
          if (stale()) return false;
          wo = fresh;
          etag = tag;
          return redraw().then(function () { return true; });
        });
      });
    },
    reload: load,
  };
  setInterval(WO.refresh, UI.POLL_MS);
  setInterval(function () {
    if (wo && !UI.busy() && !document.hidden && (wo.alert || wo.trigger)) drawChart(view());
  }, 60000);
  window.addEventListener("resize", function () {
    chartAt = 0;
    if (wo && (wo.alert || wo.trigger)) drawChart(view());
  });
  if (window.PR && PR.on) {
    var ours = function (d) {
      return !!d && Number(d.woId) === id;
    };
    PR.on("queued", function (d) {
      queuedGen += 1;
      if (wo && ours(d)) redraw();
    });
    ["failed", "conflict"].forEach(function (ev) {
      PR.on(ev, function (d) {
        if (wo && ours(d)) redraw();
      });
    });
    // Sent from the queue: `wo` is the work order as it is now (for a photo, whose answer is the
    // attachment, sync.js fetched it; null when it could not).
    PR.on("synced", function (d) {
      if (!wo || !ours(d)) return;
      if (d.wo && d.wo.events) {
        wo = d.wo;
        etag = null; // the next poll answers in full, with the ETag of its own
      }
      var photo = d.action && d.action.kind === "photo";
      (photo ? loadAttachments() : Promise.resolve()).then(function () {
        return d.wo ? redraw() : WO.refresh().then(function (changed) { if (!changed) return redraw(); });
      });
    });
    // Dropped from the queue: the technician kept the server's version in a conflict (`data`
    // is the work order as the server has it) or discarded a refused action (null).
    PR.on("dropped", function (d) {
      if (!wo || !ours(d)) return;
      if (d.data && d.data.events) {
        wo = d.data;
        etag = null;
      }
      redraw();
    });
    PR.on("online", function () {
      if (wo) WO.refresh().then(function (changed) { if (!changed) return redraw(); });
    });
  }
  load();
})();
