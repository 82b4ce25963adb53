// My work: tabs (mine, unassigned, all open), filters, search, paging with no cap, and a live
// refresh (a conditional GET every 10 s, 304 while nothing changed) that waits while the
// technician types or a dialog is open.
(function () {
  "use strict";
  var PAGE = 50;
  var FILTERS = ["q", "status", "priority", "building", "type"];
  var list = UI.$("wos");
  var form = UI.$("filters");
  var more = UI.$("more");
  var count = UI.$("count");
  var takes = UI.role !== "contractor" && UI.role !== "requester";
  var state = { tab: "mine", items: [], next: null, total: 0, etag: null, loading: 0 };
  var LIST = (window.LIST = state);

  // --- where we are: the tab and filters live in the address, so Back restores them ---------
  var here = new URLSearchParams(location.search);
  var tabs = [].slice.call(document.querySelectorAll("#tabs [data-tab]"));
  state.tab = here.get("tab") || tabs[0].dataset.tab;
  if (!tabs.some(function (t) { return t.dataset.tab === state.tab; })) state.tab = tabs[0].dataset.tab;
  FILTERS.forEach(function (name) {
    if (here.get(name)) form.elements[name].value = here.get(name);
  });

  function params() {
    var p = { open: "true", sort: "urgency" };
    if (state.tab === "mine") p.assignee = "me";
    if (state.tab === "unassigned") p.assignee = "none";
    FILTERS.forEach(function (name) {
      var v = form.elements[name].value.trim();
      if (v) p[name] = v;
    });
    return p;
  }
  function url(extra) {
    return "/api/v1/workorders?" + UI.queryString(Object.assign(params(), extra));
  }
  function remember() {
    var p = { tab: state.tab };
    FILTERS.forEach(function (name) {
      p[name] = form.elements[name].value.trim();
    });
    history.replaceState(null, "", "?" + UI.queryString(p));
    tabs.forEach(function (t) {
      var on = t.dataset.tab === state.tab;
      t.classList.toggle("on", on);
      if (on) t.setAttribute("aria-current", "true");
      else t.removeAttribute("aria-current");
    });
  }

  // --- drawing ----------------------------------------------------------------------------
  function takeButton(wo) {
    if (!takes || state.tab !== "unassigned" || wo.assignee_id || wo.contractor_id) return null;
    return UI.el("button.btn.take", { type: "button", dataset: { take: wo.id }, onclick: function () { take(wo, this); } }, _("Take"));
  }
  function draw() {
    var t0 = performance.now();
    var frag = document.createDocumentFragment();
    state.items.forEach(function (wo) {
      // A contractor's cards show both SLA clocks (contractor_work.js; technicians: no change).
      var clocks = window.CW ? window.CW.clocks(wo) : null;
      var li = UI.card(wo, takeButton(wo) || clocks, { mine: state.tab === "mine" });
      if (clocks) li.classList.add("with-clocks");
      frag.appendChild(li);
    });
    UI.clear(list).appendChild(frag);
    list.setAttribute("aria-busy", "false");
    UI.$("empty").hidden = state.items.length > 0;
    count.textContent = state.items.length < state.total
      ? _("Showing {shown} of {total}", { shown: state.items.length, total: state.total })
      : state.total === 1 ? _("1 work order") : _("{n} work orders", { n: state.total });
    more.hidden = !state.next;
    if (state.next) more.textContent = _("Load more ({n} left)", { n: Math.max(0, state.total - state.items.length) });
    document.body.dataset.renderMs = (performance.now() - t0).toFixed(1);
    document.body.dataset.shown = String(state.items.length);
  }
  function fail(res) {
    var box = UI.$("list-error");
    box.hidden = false;
    box.textContent = res && res.status === 0 ? _("No network, and no saved copy of this list.") : _("The list could not be loaded.");
  }

  // --- loading ----------------------------------------------------------------------------
  // The first page of the list as it is now (a new tab, filter or search).
  function load() {
    var ticket = ++state.loading;
    remember();
    list.setAttribute("aria-busy", "true");
    return UI.get(url({ limit: PAGE })).then(function (res) {
      if (ticket !== state.loading) return;
      if (!res.ok) return fail(res);
      UI.$("list-error").hidden = true;
      state.items = res.data.items;
      state.next = res.data.next_cursor;
      state.total = res.data.total === undefined ? res.data.items.length : res.data.total;
      state.etag = res.etag || null;
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
  // The same rows again, as many as are shown now (after the first page changed).
  function reload() {
    var want = Math.max(PAGE, state.items.length);
    var ticket = state.loading;
    var items = [];
    function page(cursor) {
      var extra = { limit: Math.min(500, want - items.length) };
      if (cursor) extra.cursor = cursor;
      return UI.get(url(extra)).then(function (res) {
        if (!res.ok || ticket !== state.loading) return null;
        items = items.concat(res.data.items);
        if (items.length < want && res.data.next_cursor) return page(res.data.next_cursor);
        return res.data;
      });
    }
    return page(null).then(function (last) {
      if (!last || ticket !== state.loading || UI.busy()) return false;
      state.items = items;
      state.next = last.next_cursor;
      if (last.total !== undefined) state.total = last.total;
      draw();
      return true;
    });
  }
  // Live: has the first page changed? Only then fetch and redraw, and never under the fingers.
  LIST.refresh = function () {
    if (UI.busy() || document.hidden) return Promise.resolve(false);
    return UI.poll(url({ limit: PAGE }), state.etag).then(function (r) {
      if (r.status !== 200) return false;
      return reload().then(function (drawn) {
        if (drawn) state.etag = r.etag; // else the change is still news at the next poll
        return drawn;
      });
    });
  };
  setInterval(LIST.refresh, UI.POLL_MS);

  // --- take -------------------------------------------------------------------------------
  function take(wo, button) {
    button.disabled = true;
    UI.act({
      woId: wo.id,
      kind: "take",
      label: _("Take #{n}", { n: wo.id }),
      method: "POST",
      url: "/api/v1/workorders/" + wo.id + "/take",
      body: {},
      ifMatch: wo.version,
    }).then(function (res) {
      var li = button.closest("li");
      if (res.state === "sent" || res.state === "queued") {
        button.replaceWith(UI.el("span.chip.taken", { text: res.state === "sent" ? _("Taken: now in my work") : _("Take waiting to sync") }));
        li.classList.add("taken");
        UI.report(res, _("Taken: #{n} is in my work", { n: wo.id }));
      } else {
        button.disabled = false;
        UI.report(res);
        if (res.state === "failed") load();
      }
    });
  }

  // --- wiring -----------------------------------------------------------------------------
  tabs.forEach(function (t) {
    t.addEventListener("click", function (e) {
      e.preventDefault();
      state.tab = t.dataset.tab;
      load();
    });
  });
  form.addEventListener("change", function (e) {
    if (e.target.name !== "q") load();
  });
  var typing;
  form.elements.q.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(load, 350);
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    clearTimeout(typing);
    form.elements.q.blur();
    load();
  });
  more.addEventListener("click", loadMore);
  LIST.load = load;
  LIST.loadMore = loadMore;
  load();
})();
