// An asset: where it is, its open work, its history, and a new request for it.
(function () {
  "use strict";
  var $ = UI.$, el = UI.el;
  var assetId = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop());
  var api = "/api/v1/assets/" + encodeURIComponent(assetId);
  var CRITICALITY = { low: _("low"), medium: _("medium"), high: _("high"), critical: _("critical") };
  var historyNext = null;

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
    UI.add(UI.clear($("open-work")), items.map(function (w) { return UI.card(w); }));
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
      var open = "/api/v1/workorders?" + UI.queryString({ asset_id: assetId, open: "true", sort: "urgency", limit: 100 });
      return Promise.all([
        UI.get(open).then(function (r) { if (r.ok) drawOpen(r.data.items); }),
        loadHistory(false),
      ]);
    });
  }
  $("history-more").addEventListener("click", function () { loadHistory(true); });

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
  load();
})();
