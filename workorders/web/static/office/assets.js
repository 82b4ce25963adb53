// The site tree: building > floor > room > asset, from GET /api/v1/locations and /api/v1/assets,
// each asset with its class, criticality and its age against its expected life.
(function () {
  "use strict";
  var $ = UI.$, el = UI.el;
  var CRITICALITY = { low: _("low"), medium: _("medium"), high: _("high"), critical: _("critical") };
  var KIND = { site: _("Site"), building: _("Building"), floor: _("Floor"), room: _("Room") };
  var YEAR_MS = 365.2425 * 86400000;
  // How deep the tree opens at first: to the rooms on a small site, to the floors on a big one.
  var openDepth = 2;

  // Every page of a cursor-paged list.
  function all(url, acc) {
    acc = acc || [];
    return UI.get(url).then(function (res) {
      if (!res.ok) throw new Error(String(res.status));
      acc = acc.concat(res.data.items);
      if (!res.data.next_cursor) return acc;
      var base = url.replace(/([?&])cursor=[^&]*/, "$1").replace(/[?&]$/, "");
      return all(base + (base.indexOf("?") < 0 ? "?" : "&") + "cursor=" + encodeURIComponent(res.data.next_cursor), acc);
    });
  }

  // Age in years and the share of the expected life used; null without an install date.
  function life(a) {
    if (!a.install_date) return null;
    var age = (Date.now() - new Date(a.install_date + "T00:00:00").getTime()) / YEAR_MS;
    var exp = a.expected_life_years;
    return { age: age, expected: exp, used: exp ? age / exp : null };
  }
  function lifeBar(a) {
    var l = life(a);
    if (!l) return el("span.life.none", { text: _("Install date unknown") });
    var text = l.expected
      ? _("{age} of {life} years", { age: UI.number(l.age, 1), life: UI.number(l.expected, 0) })
      : _("{age} years, expected life unknown", { age: UI.number(l.age, 1) });
    var cls = l.used === null ? "unknown" : l.used > 1 ? "past" : l.used >= 0.75 ? "near" : "ok";
    var pct = l.used === null ? 0 : Math.min(100, Math.round(l.used * 100));
    var fill = el("span.life-fill");
    fill.style.width = pct + "%"; // CSSOM: the page's CSP refuses style attributes
    return el("span.life." + cls, { title: text }, [
      el("span.life-bar", { "aria-hidden": "true" }, fill),
      el("span.life-text", { text: text }),
    ]);
  }

  function assetRow(a) {
    var name = UI.name(a, "name");
    var row = el("li.tree-asset", { dataset: { id: a.id, find: (a.id + " " + a.name + " " + (a.name_zh || "") + " " + a.brick_class).toLowerCase() } }, [
      el("a.asset-link", { href: "/ui/assets/" + encodeURIComponent(a.id) }, [
        el("span.asset-name.data", { text: name }),
        el("span.asset-meta", null, [
          el("span.asset-class.data", { text: (a.brick_class || "").replace(/_/g, " ") }),
          el("span.chip.crit.crit-" + a.criticality, { text: CRITICALITY[a.criticality] || a.criticality }),
        ]),
        lifeBar(a),
      ]),
    ]);
    return row;
  }

  function countAssets(node) {
    return node.assets.length + node.children.reduce(function (n, c) { return n + countAssets(c); }, 0);
  }

  function branch(node, depth) {
    var n = countAssets(node);
    var kids = node.children.filter(function (c) { return countAssets(c) > 0; }).map(function (c) { return branch(c, depth + 1); });
    var list = el("ul.tree-assets", null, node.assets.map(assetRow));
    var det = el("details.tree-node.kind-" + node.loc.kind, { open: depth <= openDepth ? true : null, dataset: { code: node.loc.code } }, [
      el("summary", null, [
        el("span.tree-kind", { text: KIND[node.loc.kind] || node.loc.kind }),
        el("span.tree-name.data", { text: UI.name(node.loc, "name") }),
        el("span.tree-count", { text: n === 1 ? _("1 asset") : _("{n} assets", { n: n }) }),
      ]),
      node.assets.length ? list : null,
      kids.length ? el("div.tree-children", null, kids) : null,
    ]);
    return det;
  }

  function build(locs, assets) {
    var byId = {}, byCode = {};
    locs.forEach(function (l) {
      var node = { loc: l, children: [], assets: [] };
      byId[l.id] = node;
      byCode[l.code] = node;
    });
    var roots = [];
    locs.forEach(function (l) {
      var node = byId[l.id];
      if (l.parent_id && byId[l.parent_id]) byId[l.parent_id].children.push(node);
      else roots.push(node);
    });
    var loose = [];
    assets.forEach(function (a) {
      var node = (a.location_id && byId[a.location_id]) || byCode[a.building_id];
      if (node) node.assets.push(a);
      else loose.push(a);
    });
    var order = { site: 0, building: 1, floor: 2, room: 3 };
    function sort(node) {
      node.children.sort(function (x, y) { return order[x.loc.kind] - order[y.loc.kind] || x.loc.id - y.loc.id; });
      node.assets.sort(function (x, y) { return UI.name(x, "name").localeCompare(UI.name(y, "name")); });
      node.children.forEach(sort);
    }
    roots.forEach(sort);
    // The site itself is the page; its buildings are the top of the tree.
    var tops = [];
    roots.forEach(function (r) { if (r.loc.kind === "site") tops = tops.concat(r.children); else tops.push(r); });
    if (loose.length) tops.push({ loc: { kind: "building", code: "-", name: _("Elsewhere") }, children: [], assets: loose });
    return tops;
  }

  function filter(text) {
    var q = text.trim().toLowerCase();
    var rows = document.querySelectorAll(".tree-asset");
    var shown = 0;
    rows.forEach(function (r) {
      var hit = !q || r.dataset.find.indexOf(q) >= 0;
      r.hidden = !hit;
      if (hit) shown++;
    });
    document.querySelectorAll(".tree-node").forEach(function (d) {
      var any = d.querySelector(".tree-asset:not([hidden])");
      d.hidden = !any;
      if (q && any) d.open = true;
    });
    $("tree-empty").hidden = shown > 0;
  }

  function load() {
    Promise.all([all("/api/v1/locations?limit=500"), UI.get("/api/v1/assets")]).then(function (got) {
      var res = got[1];
      $("loading").hidden = true;
      if (!res.ok) throw new Error(String(res.status));
      var tree = $("tree");
      openDepth = res.data.length <= 60 ? 3 : 2;
      build(got[0], res.data).forEach(function (top) { tree.appendChild(branch(top, 1)); });
      tree.hidden = false;
      $("tree-legend").hidden = false;
      $("asset-count").textContent = "· " + _("{n} assets", { n: res.data.length });
      if (location.hash.length > 1) {
        $("tree-filter").value = decodeURIComponent(location.hash.slice(1));
        filter($("tree-filter").value);
      }
    }).catch(function () {
      $("loading").hidden = true;
      $("load-error").hidden = false;
      $("load-error").textContent = _("The site tree could not be loaded.");
    });
  }
  $("tree-filter").addEventListener("input", function (e) { filter(e.target.value); });
  $("expand-all").addEventListener("click", function () {
    document.querySelectorAll(".tree-node").forEach(function (d) { d.open = true; });
  });
  $("collapse-all").addEventListener("click", function () {
    document.querySelectorAll(".tree-node").forEach(function (d) { d.open = false; });
  });
  load();
})();
