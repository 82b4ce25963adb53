// Every work order, for the office: filters in the address (the overview links here with them),
// search, sort, paging, checkboxes with bulk assignment (each work order's outcome shown), and
// a new work order.
(function () {
  "use strict";
  var $ = UI.$, el = UI.el;
  var PAGE = 50;
  var FILTERS = ["q", "open", "status", "priority", "building", "assignee", "contractor_id", "sla", "sort"];
  var form = $("filters");
  var rows = $("rows");
  var more = $("more");
  var state = { items: [], next: null, total: 0, loading: 0, selected: {}, extra: {}, who: { people: [], contractors: [] } };
  var OFFICE = (window.OFFICE = state);

  // --- the address holds the filters ------------------------------------------------------
  function field(name) {
    return form.elements[name];
  }
  function value(name) {
    var f = field(name);
    if (f.type === "checkbox") return f.checked ? "true" : "";
    return f.value.trim();
  }
  function ensureOption(select, v, text) {
    if (!v || [].some.call(select.options, function (o) { return o.value === v; })) return;
    select.appendChild(el("option", { value: v, text: text || v }));
  }
  function fromAddress() {
    var here = new URLSearchParams(location.search);
    if (!here.get("contractor_id") && here.get("contractor")) here.set("contractor_id", here.get("contractor"));
    FILTERS.forEach(function (name) {
      var all = here.getAll(name);
      var f = field(name);
      if (f.type === "checkbox") {
        f.checked = all[0] === "true";
        return;
      }
      var v = all[0] || "";
      if (f.tagName === "SELECT") ensureOption(f, v, name === "assignee" || name === "contractor_id" ? "#" + v : v);
      f.value = v;
      // A list the overview asks for with several values (status=new&status=assigned) keeps
      // them until that filter is changed here.
      if (all.length > 1) state.extra[name] = all;
    });
    if (!field("sort").value) field("sort").value = "-id";
  }
  function params() {
    var p = {};
    FILTERS.forEach(function (name) {
      var v = state.extra[name] || value(name);
      if (v && v.length) p[name] = v;
    });
    return p;
  }
  function remember() {
    var q = UI.queryString(params());
    history.replaceState(null, "", q ? "?" + q : location.pathname);
    // The same filters as a CSV file (the sort too; no paging).
    $("export").href = "/api/v1/workorders/export.csv" + (q ? "?" + q : "");
  }
  function url(extra) {
    return "/api/v1/workorders?" + UI.queryString(Object.assign(params(), extra));
  }

  // --- drawing ----------------------------------------------------------------------------
  function who(wo) {
    var names = [wo.assignee_name, wo.contractor_name].filter(Boolean);
    return names.length ? el("span.data", { text: names.join(" · ") }) : el("span.muted", { text: _("Nobody yet") });
  }
  function row(wo) {
    var box = el("input", { type: "checkbox", "aria-label": _("Select #{n}", { n: wo.id }), dataset: { id: wo.id } });
    box.checked = !!state.selected[wo.id];
    box.addEventListener("change", function () {
      if (box.checked) state.selected[wo.id] = wo;
      else delete state.selected[wo.id];
      drawBulk();
    });
    var next = UI.nextDue(wo);
    var asset = UI.name(wo, "asset_name");
    return el("tr.prio-" + wo.priority + (state.selected[wo.id] ? ".sel" : ""), { dataset: { id: wo.id, version: wo.version } }, [
      // The whole cell takes the tap, not only the box (a finger on a tablet).
      el("td.sel", { onclick: function (e) { if (e.target !== box) box.click(); } }, box),
      el("td.n", null, el("a", { href: "/ui/workorders/" + wo.id, text: "#" + wo.id })),
      el("td.what", null, [
        el("a.title.data", { href: "/ui/workorders/" + wo.id, text: wo.title }),
        asset ? el("span.asset.data", { text: asset }) : null,
      ]),
      el("td", null, el("span.chip.prio.prio-" + wo.priority, { text: wo.priority, title: UI.PRIORITY[wo.priority] })),
      el("td", null, el("span.chip.status.status-" + wo.status, { text: UI.statusText(wo) })),
      el("td.col-building.data", { text: UI.name(wo, "building_name") }),
      el("td.who", null, who(wo)),
      el("td.sla", null, next && ["resolved", "verified", "closed", "cancelled"].indexOf(wo.status) < 0
        ? UI.countdown(el("span.countdown"), next) : el("span.muted", { text: next ? "" : _("No SLA") })),
      el("td.col-created", { text: UI.dateTime(wo.created_at) }),
    ]);
  }
  function draw() {
    var frag = document.createDocumentFragment();
    state.items.forEach(function (wo) { frag.appendChild(row(wo)); });
    UI.clear(rows).appendChild(frag);
    rows.setAttribute("aria-busy", "false");
    $("empty").hidden = state.items.length > 0;
    $("count").textContent = state.items.length < state.total
      ? _("Showing {shown} of {total}", { shown: state.items.length, total: state.total })
      : state.total === 1 ? _("1 work order") : _("{n} work orders", { n: state.total });
    more.hidden = !state.next;
    if (state.next) more.textContent = _("Load more ({n} left)", { n: Math.max(0, state.total - state.items.length) });
    drawBulk();
    document.body.dataset.shown = String(state.items.length);
  }
  function selectedIds() {
    return Object.keys(state.selected).map(Number).sort(function (a, b) { return a - b; });
  }
  function drawBulk() {
    var ids = selectedIds();
    $("bulk").hidden = !ids.length;
    $("bulk-count").textContent = ids.length === 1 ? _("1 selected") : _("{n} selected", { n: ids.length });
    var shown = state.items.map(function (w) { return w.id; });
    var all = $("select-all");
    var on = shown.filter(function (i) { return state.selected[i]; }).length;
    all.checked = shown.length > 0 && on === shown.length;
    all.indeterminate = on > 0 && on < shown.length;
    [].forEach.call(rows.querySelectorAll("tr"), function (tr) {
      tr.classList.toggle("sel", !!state.selected[tr.dataset.id]);
    });
  }
  function fail(res) {
    var box = $("list-error");
    box.hidden = false;
    box.textContent = res && res.status === 0 ? _("No network: the list could not be loaded.") : _("The list could not be loaded.") + " " + Office.why(res);
    rows.setAttribute("aria-busy", "false");
  }

  // --- loading ----------------------------------------------------------------------------
  function load() {
    var ticket = ++state.loading;
    remember();
    rows.setAttribute("aria-busy", "true");
    return UI.get(url({ limit: PAGE })).then(function (res) {
      if (ticket !== state.loading) return;
      if (!res.ok || !res.data) return fail(res);
      $("list-error").hidden = true;
      state.items = res.data.items;
      state.next = res.data.next_cursor;
      state.total = res.data.total === undefined ? res.data.items.length : res.data.total;
      draw();
    });
  }
  function loadMore() {
    if (!state.next) return Promise.resolve();
    var ticket = state.loading;
    more.disabled = true;
    return UI.get(url({ limit: PAGE, cursor: state.next })).then(function (res) {
      more.disabled = false;
      if (ticket !== state.loading || !res.ok) return;
      var have = {};
      state.items.forEach(function (w) { have[w.id] = true; });
      state.items = state.items.concat(res.data.items.filter(function (w) { return !have[w.id]; }));
      state.next = res.data.next_cursor;
      if (res.data.total !== undefined) state.total = res.data.total;
      draw();
    });
  }

  // --- bulk assignment --------------------------------------------------------------------
  function bulkAssign() {
    var ids = selectedIds();
    var target = $("bulk-target").value;
    if (!ids.length) return Promise.resolve();
    if (!target) {
      UI.toast(_("Choose whom to assign them to."), "warn");
      $("bulk-target").focus();
      return Promise.resolve();
    }
    var body = Object.assign({ ids: ids }, Office.target(target));
    var label = $("bulk-target").selectedOptions[0].textContent;
    $("bulk-go").disabled = true;
    return Office.send("POST", "/api/v1/workorders/bulk-assign", body).then(function (res) {
      $("bulk-go").disabled = false;
      if (!res.ok || !res.data) {
        UI.toast(Office.why(res), "error");
        return;
      }
      showResults(res.data, label);
      res.data.items.forEach(function (i) {
        if (i.ok) delete state.selected[i.id];
      });
      // A refused one stays selected to try again, while the list still shows it.
      return load().then(function () {
        var shown = {};
        state.items.forEach(function (w) { shown[w.id] = true; });
        Object.keys(state.selected).forEach(function (k) { if (!shown[k]) delete state.selected[k]; });
        drawBulk();
      });
    });
  }
  function showResults(data, label) {
    var total = data.items.length;
    $("results").hidden = false;
    $("results").classList.toggle("has-failed", data.failed > 0);
    $("results-title").textContent = _("Assigned {n} of {total} to {who}", { n: data.assigned, total: total, who: label });
    UI.add(UI.clear($("results-list")), data.items.map(function (i) {
      var link = el("a", { href: "/ui/workorders/" + i.id, text: "#" + i.id });
      return el("li." + (i.ok ? "ok" : "failed"), { dataset: { id: i.id } }, i.ok
        ? [el("span.mark", { text: "✓", "aria-hidden": "true" }), link, " " + _("assigned")]
        : [el("span.mark", { text: "✗", "aria-hidden": "true" }), link, " " + _("not assigned:") + " "].concat(Office.whyNode(i.error, i.status_code, i.message)));
    }));
  }

  // --- a new work order -------------------------------------------------------------------
  var assetsLoaded = null;
  function loadAssets() {
    if (assetsLoaded) return assetsLoaded;
    assetsLoaded = UI.get("/api/v1/assets").then(function (res) {
      var list = res.ok && Array.isArray(res.data) ? res.data : [];
      var select = $("new-asset");
      list.filter(function (a) { return a.active !== false; }).forEach(function (a) {
        var where = UI.name(a, "building_name");
        select.appendChild(el("option", { value: a.id, text: (UI.name(a, "name") || a.id) + (where ? " · " + where : "") }));
      });
    });
    return assetsLoaded;
  }
  var newDlg = $("new-dlg");
  var newForm = $("new-form");
  function openNew() {
    $("new-error").hidden = true;
    newDlg.returnValue = "";
    loadAssets().then(function () { newDlg.showModal(); });
  }
  newForm.addEventListener("submit", function (e) {
    var submitter = e.submitter;
    if (submitter && submitter.value === "cancel") return;
    e.preventDefault();
    var f = newForm.elements;
    var body = Object.assign(
      { title: f.title.value.trim(), priority: f.priority.value, description: f.description.value.trim() },
      Office.target(f.target.value)
    );
    if (f.asset_id.value) body.asset_id = f.asset_id.value;
    if (!body.assignee_id) delete body.assignee_id;
    if (!body.contractor_id) delete body.contractor_id;
    $("new-ok").disabled = true;
    Office.send("POST", "/api/v1/workorders", body).then(function (res) {
      $("new-ok").disabled = false;
      if (!res.ok || !res.data) {
        $("new-error").hidden = false;
        $("new-error").textContent = Office.why(res);
        return;
      }
      newDlg.close("ok");
      newForm.reset();
      UI.toast(_("Created work order #{n}", { n: res.data.id }), "ok");
      document.body.dataset.created = String(res.data.id);
      load();
    });
  });

  // --- wiring -----------------------------------------------------------------------------
  form.addEventListener("change", function (e) {
    if (e.target.name === "q") return;
    delete state.extra[e.target.name];
    load();
  });
  var typing;
  field("q").addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(load, 350);
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    clearTimeout(typing);
    load();
  });
  $("reset").addEventListener("click", function () {
    form.reset();
    state.extra = {};
    field("sort").value = "-id";
    load();
  });
  $("select-all").addEventListener("change", function () {
    var on = this.checked;
    state.items.forEach(function (w) {
      if (on) state.selected[w.id] = w;
      else delete state.selected[w.id];
    });
    [].forEach.call(rows.querySelectorAll("input[type=checkbox]"), function (b) { b.checked = on; });
    drawBulk();
  });
  $("bulk-go").addEventListener("click", bulkAssign);
  $("bulk-clear").addEventListener("click", function () {
    state.selected = {};
    [].forEach.call(rows.querySelectorAll("input[type=checkbox]"), function (b) { b.checked = false; });
    drawBulk();
  });
  $("results-close").addEventListener("click", function () { $("results").hidden = true; });
  $("new-wo").addEventListener("click", openNew);
  more.addEventListener("click", loadMore);

  fromAddress();
  Office.loadAssignees().then(function (w) {
    state.who = w;
    Office.fillTargets($("bulk-target"), w, _("Choose…"));
    Office.fillTargets($("new-target"), w, _("Nobody yet"));
    // The filters: a person or a firm, keeping one the address named.
    var assignee = field("assignee");
    var keepA = assignee.value;
    w.people.forEach(function (p) {
      if (![].some.call(assignee.options, function (o) { return o.value === String(p.id); })) {
        assignee.appendChild(el("option", { value: String(p.id), text: p.display_name }));
      } else {
        [].forEach.call(assignee.options, function (o) { if (o.value === String(p.id)) o.textContent = p.display_name; });
      }
    });
    assignee.value = keepA;
    var firm = field("contractor_id");
    var keepF = firm.value;
    w.contractors.forEach(function (f) {
      var found = [].filter.call(firm.options, function (o) { return o.value === String(f.id); })[0];
      if (found) found.textContent = f.name;
      else firm.appendChild(el("option", { value: String(f.id), text: f.name }));
    });
    firm.value = keepF;
  });
  OFFICE.load = load;
  load();
})();
