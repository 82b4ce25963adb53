// The office's alerts (/ui/alerts): live alerts (firing, pending, no data, error) and the recent
// ones, each with its rule in words; the selected one with a chart of its point around the alert;
// acknowledge; silence by rule or by asset for a while with a reason; the silences in force, each
// of which can be expired. Changes go straight to the API with the session's CSRF token (an office
// change with no network must fail in front of the person, not wait in the tablet's queue).
(function () {
  "use strict";
  var el = UI.el, $ = UI.$;
  var REFRESH_MS = 20000;
  var params = new URLSearchParams(location.search);
  var tab = params.get("state") || "";
  var onlyUnacked = params.get("ack") === "no";
  var rules = {}, assets = {}, live = [], recent = [], silences = [];
  var selected = params.get("alert") ? Number(params.get("alert")) : null;
  var chartKey = "";

  var STATE = { firing: _("Firing"), pending: _("Pending"), nodata: _("No data"), error: _("Error"), resolved: _("Resolved"), inactive: _("Cleared") };
  var SEVERITY = { critical: _("critical"), major: _("major"), minor: _("minor"), info: _("info") };
  var ORDER = { firing: 0, error: 1, nodata: 2, pending: 3 };

  function csrf() {
    if (window.PR && PR.csrf) return PR.csrf;
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  }
  function send(method, url, body) {
    var headers = { Accept: "application/json", "X-CSRF-Token": csrf() };
    var init = { method: method, credentials: "same-origin", headers: headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (res) {
      return res.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : null; } catch (e) { data = null; }
        return { ok: res.ok, status: res.status, data: data };
      });
    }, function () {
      return { ok: false, status: 0, data: null };
    });
  }
  function refused(res) {
    if (!res || res.status === 0) return _("No network: nothing was changed.");
    var d = res.data || {};
    return _("Refused: {why}", { why: d.message || d.error || res.status });
  }

  function ruleName(id) {
    var r = rules[id];
    if (!r) return id;
    return UI.zh && r.name_zh ? r.name_zh : r.name;
  }
  function ruleWords(id) {
    var r = rules[id];
    if (!r) return "";
    var w = r.words || {};
    return (UI.zh ? w["zh-CN"] : w.en) || r.condition || "";
  }
  function assetName(id) {
    var a = assets[id];
    return a ? UI.name(a, "name") : id;
  }
  function value(v, unit) {
    if (v === null || v === undefined) return "–";
    return UI.number(v, undefined) + (unit ? " " + unit : "");
  }
  function find(id) {
    return live.concat(recent).filter(function (a) { return a.id === id; })[0] || null;
  }

  // --- the list ----------------------------------------------------------------------------------
  function chips(a) {
    var out = [el("span.chip.alert-" + a.state, { text: STATE[a.state] || a.state }), el("span.chip.sev.sev-" + a.severity, { text: SEVERITY[a.severity] || a.severity })];
    if (a.live && a.silenced_now) out.push(el("span.chip.silenced", { text: _("Silenced") }));
    if (a.live && a.acknowledged_at) out.push(el("span.chip.acked", { text: _("Acknowledged") }));
    return out;
  }
  function item(a) {
    var when = a.state === "firing" && a.fired_at ? _("firing since {t}", { t: UI.dateTime(a.fired_at) }) : a.live ? _("since {t}", { t: UI.dateTime(a.started_at) }) : _("over at {t}", { t: UI.dateTime(a.resolved_at || a.last_ts || a.started_at) });
    var btn = el("button.al-item-btn", { type: "button", "aria-pressed": a.id === selected ? "true" : "false", onclick: function () { select(a.id); } }, [
      el("div.wo-chips", null, chips(a)),
      el("div.al-title", null, [el("span.data", { text: ruleName(a.rule_id) }), " · ", el("span.data", { text: assetName(a.asset_id) })]),
      el("div.al-words", { text: ruleWords(a.rule_id) }),
      el("div.al-when.muted", null, [when, a.last_value !== null ? " · " + _("now {v}", { v: value(a.last_value, a.unit) }) : ""]),
    ]);
    return el("li.al-item.al-" + a.state + (a.id === selected ? ".on" : "") + (a.live && a.silenced_now ? ".is-silenced" : ""), {
      dataset: { id: a.id, state: a.state, rule: a.rule_id, asset: a.asset_id, silenced: a.live && a.silenced_now ? "1" : "0" },
    }, btn);
  }
  function shownLive() {
    return live.filter(function (a) {
      if (tab === "firing" && a.state !== "firing") return false;
      if (tab === "pending" && a.state !== "pending") return false;
      if (onlyUnacked && a.acknowledged_at) return false;
      return true;
    }).sort(function (a, b) {
      return (ORDER[a.state] - ORDER[b.state]) || (a.started_at < b.started_at ? 1 : -1);
    });
  }
  function drawList() {
    var counts = { live: live.length, firing: 0, pending: 0 };
    live.forEach(function (a) { if (a.state in counts) counts[a.state]++; });
    document.querySelectorAll("#al-tabs a").forEach(function (a) {
      a.classList.toggle("on", a.dataset.state === tab);
      if (a.dataset.state === tab) a.setAttribute("aria-current", "page");
      var c = a.querySelector("[data-count]");
      if (c) c.textContent = String(counts[c.dataset.count]);
    });
    var main = tab === "recent" ? recent : shownLive();
    var others = tab === "" ? recent.slice(0, 10) : [];
    if (selected === null || !find(selected)) selected = main.length ? main[0].id : others.length ? others[0].id : null;
    UI.add(UI.clear($("al-list")), main.map(item));
    $("al-empty").hidden = main.length > 0;
    $("al-recent-h").hidden = !others.length;
    UI.add(UI.clear($("al-recent")), others.map(item));
  }

  // --- the selected alert --------------------------------------------------------------------------
  function fact(dl, term, def) {
    UI.add(dl, [el("dt", { text: term }), el("dd", null, def)]);
  }
  function silenceOf(id) {
    return silences.filter(function (s) { return s.id === id; })[0] || null;
  }
  function drawDetail() {
    var a = find(selected);
    $("al-detail").hidden = !a;
    if (!a) return;
    UI.add(UI.clear($("al-d-chips")), chips(a));
    UI.add(UI.clear($("al-d-title")), [ruleName(a.rule_id), " · ", assetName(a.asset_id)]);
    $("al-d-title").dataset.id = a.id;
    $("al-d-words").textContent = ruleWords(a.rule_id);
    var dl = UI.clear($("al-d-facts"));
    fact(dl, _("Asset"), el("a.data", { href: "/ui/assets/" + encodeURIComponent(a.asset_id), text: assetName(a.asset_id) }));
    fact(dl, _("Point"), el("span.data", { text: a.point + (a.device ? " · " + a.device : "") }));
    fact(dl, _("Started"), UI.dateTime(a.started_at));
    if (a.fired_at) fact(dl, _("Fired"), UI.dateTime(a.fired_at));
    if (a.trigger_value !== null) fact(dl, _("Triggered at"), el("span.data", { text: value(a.trigger_value, a.unit) }));
    if (a.last_value !== null) fact(dl, _("Last value"), el("span.data", { text: value(a.last_value, a.unit) + (a.last_ts ? " · " + UI.time(a.last_ts) : "") }));
    if (a.acknowledged_at) fact(dl, _("Acknowledged"), el("span", null, [el("span.data", { text: a.acknowledged_by || "" }), " · " + UI.dateTime(a.acknowledged_at)]));
    var note = $("al-d-silenced");
    note.hidden = !(a.live && a.silenced_now);
    if (a.live && a.silenced_now) {
      var s = silenceOf(a.silenced_now);
      UI.add(UI.clear(note), [
        el("b", { text: s ? _("Silenced until {t} by {who}", { t: UI.dateTime(s.ends_at), who: s.created_by }) : _("Silenced") }),
        s && s.comment ? el("span.data", { text: " " + s.comment }) : null,
      ]);
    }
    if (a.detail) fact(dl, _("Detail"), el("span.data", { text: a.detail }));
    var ack = $("al-ack");
    ack.hidden = !a.live;
    ack.disabled = !!a.acknowledged_at;
    ack.textContent = a.acknowledged_at ? _("Acknowledged") : _("Acknowledge");
    $("al-silence").hidden = !a.live;
    var wo = $("al-wo");
    wo.hidden = !a.workorder_id;
    if (a.workorder_id) {
      wo.href = "/ui/workorders/" + a.workorder_id;
      wo.textContent = _("Work order #{n}", { n: a.workorder_id });
    }
    var key = a.id + ":" + a.state;
    if (key !== chartKey || Date.now() - drawDetail.at > 55000) drawChart(a);
    chartKey = key;
  }
  drawDetail.at = 0;
  // The point from an hour before the alert started until now (or an hour after it ended).
  function drawChart(a) {
    drawDetail.at = Date.now();
    var start = new Date(a.started_at).getTime();
    var from = start - 3600 * 1000;
    var end = a.live ? Date.now() : new Date(a.resolved_at || a.last_ts || a.started_at).getTime() + 3600 * 1000;
    var to = Math.min(Date.now(), Math.max(end, start + 60000));
    var rule = rules[a.rule_id] || {};
    var level = rule.level === undefined ? null : rule.level;
    var url = "/api/v1/assets/" + encodeURIComponent(a.asset_id) + "/readings?" + UI.queryString({ point: a.point, from: new Date(from).toISOString(), to: new Date(to).toISOString() });
    UI.add(UI.clear($("al-chart-cap")), [
      el("span.data", { text: a.point }),
      " · " + _("from an hour before the alert"),
      level !== null ? " · " + _("dashed line: the threshold") + " " : null,
      level !== null ? el("span.data", { text: value(level, a.unit) }) : null,
    ]);
    UI.get(url).then(function (res) {
      if (selected !== a.id) return;
      PRChart.draw($("al-chart"), {
        points: res.ok && res.data ? res.data.points : [],
        from: from,
        to: to,
        threshold: level,
        thresholdLabel: level !== null ? _("threshold") + " " + value(level, a.unit) : "",
        mark: start,
        unit: (res.data && res.data.unit) || a.unit,
        timeLabel: UI.time,
        empty: res.ok ? _("No readings in this period.") : _("The readings cannot be loaded."),
      });
    });
  }
  function select(id) {
    selected = id;
    var u = new URL(location.href);
    u.searchParams.set("alert", String(id));
    history.replaceState(null, "", u.pathname + u.search);
    drawList();
    drawDetail();
    if (window.matchMedia("(max-width: 1000px)").matches) $("al-detail").scrollIntoView({ behavior: "smooth", block: "start" });
  }

  // --- silences ------------------------------------------------------------------------------------
  function what(s) {
    var parts = [];
    if (s.rule_ids && s.rule_ids.length) parts.push(_("rule {names}", { names: s.rule_ids.map(ruleName).join(", ") }));
    var sel = s.selector || {};
    if (sel.assets && sel.assets.length) parts.push(_("asset {names}", { names: sel.assets.map(assetName).join(", ") }));
    if (sel.building && sel.building.length) parts.push(_("building {names}", { names: sel.building.join(", ") }));
    if (sel.asset_class && sel.asset_class.length) parts.push(_("class {names}", { names: sel.asset_class.join(", ") }));
    if (sel.tags && sel.tags.length) parts.push(_("tag {names}", { names: sel.tags.join(", ") }));
    return parts.join(" · ");
  }
  function drawSilences() {
    var body = UI.clear(document.querySelector("#silences tbody"));
    $("silences-empty").hidden = silences.length > 0;
    $("silences").hidden = !silences.length;
    silences.forEach(function (s) {
      var btn = el("button.btn.small", { type: "button", onclick: function () { expire(s, btn); } }, _("Expire"));
      UI.add(body, el("tr", { dataset: { id: s.id } }, [
        el("td.data", { text: what(s) }),
        el("td.nowrap", { text: (s.status === "scheduled" ? _("from {t}", { t: UI.dateTime(s.starts_at) }) + " " : "") + UI.dateTime(s.ends_at) }),
        el("td.data", { text: s.comment }),
        el("td.data", { text: s.created_by }),
        el("td.n", null, btn),
      ]));
    });
  }
  function expire(s, btn) {
    if (!confirm(_("End this silence now?"))) return;
    btn.disabled = true;
    send("POST", "/api/v1/silences/" + s.id + "/expire").then(function (res) {
      if (res.ok) UI.toast(_("Silence ended"), "ok");
      else UI.toast(refused(res), "error");
      load();
    });
  }
  function openSilence() {
    var a = find(selected);
    if (!a) return;
    $("sil-rule").textContent = ruleName(a.rule_id);
    $("sil-asset").textContent = assetName(a.asset_id);
    $("silence-error").hidden = true;
    var form = $("silence-form");
    form.reset();
    form.elements.duration.value = "7200";
    $("silence-dlg").showModal();
    form.elements.reason.focus();
  }
  function submitSilence(ev) {
    var form = $("silence-form");
    if (ev.submitter && ev.submitter.value === "cancel") return;
    ev.preventDefault();
    var a = find(selected);
    var reason = form.elements.reason.value.trim();
    if (!a || !reason) {
      $("silence-error").hidden = false;
      $("silence-error").textContent = _("Say why: the people who see it silenced will read it.");
      return;
    }
    var byRule = form.elements.scope.value === "rule";
    var body = { duration: Number(form.elements.duration.value), comment: reason, kind: "silence" };
    if (byRule) body.rule_ids = [a.rule_id];
    else body.selector = { assets: [a.asset_id] };
    $("silence-ok").disabled = true;
    send("POST", "/api/v1/silences", body).then(function (res) {
      $("silence-ok").disabled = false;
      if (!res.ok) {
        $("silence-error").hidden = false;
        $("silence-error").textContent = refused(res);
        return;
      }
      $("silence-dlg").close();
      UI.toast(_("Silenced until {t}", { t: UI.dateTime(res.data.ends_at) }), "ok");
      load();
    });
  }
  function acknowledge() {
    var a = find(selected);
    if (!a) return;
    $("al-ack").disabled = true;
    send("POST", "/api/v1/alerts/" + a.id + "/acknowledge").then(function (res) {
      if (res.ok) UI.toast(_("Acknowledged"), "ok");
      else UI.toast(refused(res), "error");
      load();
    });
  }

  // --- loading ---------------------------------------------------------------------------------------
  function getJson(url) {
    return send("GET", url).then(function (res) {
      if (!res.ok) throw res;
      return res.data;
    });
  }
  var first = true;
  function load() {
    var wanted = [getJson("/api/v1/alerts?active=true&limit=500"), getJson("/api/v1/alerts?active=false&limit=" + (tab === "recent" ? 100 : 10)), getJson("/api/v1/silences?active=true&limit=200")];
    if (first) wanted.push(getJson("/api/v1/rules"), getJson("/api/v1/assets"));
    return Promise.all(wanted).then(function (got) {
      live = got[0].items;
      recent = got[1].items;
      silences = got[2].items;
      if (first) {
        got[3].forEach(function (r) { rules[r.id] = r; });
        got[4].forEach(function (a) { assets[a.id] = a; });
        first = false;
      }
      $("loading").hidden = true;
      $("load-error").hidden = true;
      $("alerts").hidden = false;
      drawList();
      drawDetail();
      drawSilences();
      document.body.dataset.loaded = "1";
    }, function (res) {
      $("loading").hidden = true;
      var box = $("load-error");
      box.hidden = false;
      box.textContent = res && res.status === 0 ? _("No network: the alerts cannot be loaded.") : _("The alerts cannot be loaded ({status}).", { status: res && res.status });
    });
  }
  $("al-ack").addEventListener("click", acknowledge);
  $("al-silence").addEventListener("click", openSilence);
  $("silence-form").addEventListener("submit", submitSilence);
  load();
  setInterval(function () {
    if (!document.hidden && !UI.busy()) load();
  }, REFRESH_MS);
})();
