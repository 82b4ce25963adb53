// People and access (admins): users (create, change role or firm, disable, enable, reset the
// password), contractor firms (list, add) and API tokens (create for anyone with chosen
// scopes, the secret shown once; list; revoke).
(function () {
  "use strict";
  var $ = UI.$, el = UI.el;
  var me = Number(document.body.dataset.user);
  var ROLE = {
    admin: _("administrator"),
    engineer: _("engineer"),
    technician: _("technician"),
    contractor: _("contractor"),
    requester: _("requester"),
  };
  var SCOPE = { read: _("read"), write: _("write"), admin: _("admin"), metrics: _("metrics") };
  var STATE = { active: _("active"), revoked: _("revoked"), expired: _("expired") };
  var state = { users: [], firms: [], tokens: [] };
  var PEOPLE = (window.PEOPLE = state);

  function all(url) {
    // Every page of a cursor-paged list.
    var items = [];
    function page(cursor) {
      var u = url + (url.indexOf("?") < 0 ? "?" : "&") + "limit=500" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
      return UI.get(u).then(function (res) {
        if (!res.ok || !res.data) throw res;
        items = items.concat(res.data.items);
        return res.data.next_cursor ? page(res.data.next_cursor) : items;
      });
    }
    return page(null);
  }
  function firmName(id) {
    var f = state.firms.filter(function (x) { return x.id === id; })[0];
    return f ? f.name : id ? "#" + id : "";
  }
  function showError(id, res) {
    var box = $(id);
    box.hidden = !res;
    box.textContent = res ? Office.why(res) : "";
  }

  // --- users -------------------------------------------------------------------------------
  function drawUsers() {
    var role = $("role-filter").value;
    var firm = $("firm-filter").value;
    var disabled = $("show-disabled").checked;
    var shown = state.users.filter(function (u) {
      return (!role || u.role === role) && (!firm || String(u.organisation_id) === firm) && (disabled || u.active);
    });
    $("users-count").textContent = _("{n} shown", { n: shown.length });
    var tbody = UI.clear($("users").tBodies[0]);
    shown.forEach(function (u) {
      var acts = [
        el("button.btn", { type: "button", dataset: { act: "edit" }, onclick: function () { openUser(u); } }, _("Edit")),
        el("button.btn", { type: "button", dataset: { act: "password" }, onclick: function () { openPassword(u); } }, _("Reset password")),
        el("button.btn", { type: "button", dataset: { act: "token" }, onclick: function () { tokenFor(u); } }, _("Token")),
      ];
      if (u.id !== me) {
        acts.push(u.active
          ? el("button.btn.danger", { type: "button", dataset: { act: "disable" }, onclick: function () { setActive(u, false); } }, _("Disable"))
          : el("button.btn", { type: "button", dataset: { act: "enable" }, onclick: function () { setActive(u, true); } }, _("Enable")));
      }
      tbody.appendChild(el("tr" + (u.active ? "" : ".inactive"), { dataset: { id: u.id, username: u.username } }, [
        el("td", null, [el("b.data", { text: u.display_name }), " ", el("span.muted.data", { text: "@" + u.username }),
          u.active ? null : " ", u.active ? null : el("span.chip.inactive", { text: _("disabled") })]),
        el("td", { text: ROLE[u.role] || u.role }),
        el("td.data", { text: u.organisation_name || "" }),
        el("td.actions-cell", null, acts),
      ]));
    });
  }
  function loadUsers() {
    return all("/api/v1/users").then(function (items) {
      state.users = items;
      drawUsers();
      drawFirms();
      fillTokenUsers();
    });
  }
  function setActive(u, on) {
    if (!on && !window.confirm(_("Disable {name}? Their tokens are revoked and their sessions end at once.", { name: u.display_name }))) return Promise.resolve();
    return Office.send("POST", "/api/v1/users/" + u.id + (on ? "/enable" : "/disable")).then(function (res) {
      if (!res.ok) return UI.toast(Office.why(res), "error");
      UI.toast(on ? _("{name} can sign in again", { name: u.display_name }) : _("{name} is disabled", { name: u.display_name }), "ok");
      return Promise.all([loadUsers(), loadTokens()]);
    });
  }

  var userDlg = $("user-dlg");
  var userForm = $("user-form");
  var editing = null;
  function fillFirmSelect(select, first) {
    var keep = select.value;
    UI.clear(select);
    select.appendChild(el("option", { value: "", text: first }));
    state.firms.forEach(function (f) {
      select.appendChild(el("option", { value: String(f.id), text: f.name + (f.kind === "owner" ? " (" + _("owner") + ")" : "") }));
    });
    select.value = keep;
  }
  function openUser(u) {
    editing = u || null;
    userForm.reset();
    fillFirmSelect($("user-firm"), _("None"));
    $("user-dlg-title").textContent = u ? _("Edit {name}", { name: u.display_name }) : _("New user");
    $("username-field").hidden = !!u;
    userForm.elements.username.required = !u;
    $("password-field").hidden = !!u;
    if (u) {
      userForm.elements.display_name.value = u.display_name;
      userForm.elements.role.value = u.role;
      userForm.elements.organisation_id.value = u.organisation_id ? String(u.organisation_id) : "";
    }
    showError("user-error", null);
    userDlg.returnValue = "";
    userDlg.showModal();
  }
  userForm.addEventListener("submit", function (e) {
    if (e.submitter && e.submitter.value === "cancel") return;
    e.preventDefault();
    var f = userForm.elements;
    var org = f.organisation_id.value ? Number(f.organisation_id.value) : null;
    var req;
    if (editing) {
      var patch = { role: f.role.value, organisation_id: org };
      if (f.display_name.value.trim()) patch.display_name = f.display_name.value.trim();
      req = Office.send("PATCH", "/api/v1/users/" + editing.id, patch);
    } else {
      var body = { username: f.username.value.trim(), display_name: f.display_name.value.trim(), role: f.role.value, organisation_id: org };
      if (f.password.value) body.password = f.password.value;
      req = Office.send("POST", "/api/v1/users", body);
    }
    $("user-ok").disabled = true;
    req.then(function (res) {
      $("user-ok").disabled = false;
      if (!res.ok) return showError("user-error", res);
      userDlg.close("ok");
      UI.toast(editing ? _("Saved") : _("Created user {name}", { name: res.data.username }), "ok");
      document.body.dataset.lastUser = String(res.data.id);
      return loadUsers();
    });
  });
  // A contractor needs its firm: the menu says so as soon as the role is chosen.
  userForm.elements.role.addEventListener("change", function () {
    $("user-firm").required = this.value === "contractor";
  });

  var pwDlg = $("password-dlg");
  var pwForm = $("password-form");
  var pwUser = null;
  function openPassword(u) {
    pwUser = u;
    pwForm.reset();
    showError("password-error", null);
    $("password-title").textContent = _("New password for {name}", { name: u.display_name });
    pwDlg.returnValue = "";
    pwDlg.showModal();
  }
  pwForm.addEventListener("submit", function (e) {
    if (e.submitter && e.submitter.value === "cancel") return;
    e.preventDefault();
    Office.send("POST", "/api/v1/users/" + pwUser.id + "/password", { new_password: pwForm.elements.new_password.value }).then(function (res) {
      if (!res.ok) return showError("password-error", res);
      pwDlg.close("ok");
      UI.toast(_("Password set; {n} sessions ended", { n: res.data.sessions_ended }), "ok");
    });
  });

  // --- firms -------------------------------------------------------------------------------
  function drawFirms() {
    var tbody = UI.clear($("firms").tBodies[0]);
    state.firms.filter(function (f) { return f.kind === "contractor"; }).forEach(function (f) {
      var people = state.users.filter(function (u) { return u.organisation_id === f.id && u.active; }).length;
      tbody.appendChild(el("tr" + (f.active ? "" : ".inactive"), { dataset: { id: f.id, name: f.name } }, [
        el("td", null, [el("span.data", { text: f.name }), f.active ? null : " ", f.active ? null : el("span.chip.inactive", { text: _("inactive") })]),
        el("td.n", { text: f.monthly_fee === null || f.monthly_fee === undefined ? "—" : UI.number(f.monthly_fee, 2) }),
        el("td", { text: String(people) }),
        el("td.actions-cell", null, el("button.btn", { type: "button", dataset: { act: "edit-firm" }, onclick: function () { openFirm(f); } }, _("Edit"))),
      ]));
    });
    fillFirmSelect($("firm-filter"), _("Any firm"));
  }
  function loadFirms() {
    return UI.get("/api/v1/organisations").then(function (res) {
      state.firms = res.ok && Array.isArray(res.data) ? res.data : [];
      drawFirms();
    });
  }
  var firmDlg = $("firm-dlg");
  var firmEdit = $("firm-edit");
  var editingFirm = null;
  function openFirm(f) {
    editingFirm = f;
    firmEdit.reset();
    $("firm-dlg-title").textContent = _("Edit {name}", { name: f.name });
    firmEdit.elements.name.value = f.name;
    firmEdit.elements.monthly_fee.value = f.monthly_fee === null || f.monthly_fee === undefined ? "" : String(f.monthly_fee);
    firmEdit.elements.active.checked = !!f.active;
    showError("firm-edit-error", null);
    firmDlg.returnValue = "";
    firmDlg.showModal();
  }
  firmEdit.addEventListener("submit", function (e) {
    if (e.submitter && e.submitter.value === "cancel") return;
    e.preventDefault();
    var f = firmEdit.elements;
    var body = {
      name: f.name.value.trim(),
      monthly_fee: f.monthly_fee.value === "" ? null : Number(f.monthly_fee.value),
      active: f.active.checked,
    };
    $("firm-ok").disabled = true;
    Office.send("PATCH", "/api/v1/organisations/" + editingFirm.id, body).then(function (res) {
      $("firm-ok").disabled = false;
      if (!res.ok) return showError("firm-edit-error", res);
      firmDlg.close("ok");
      UI.toast(_("Saved"), "ok");
      return loadFirms().then(loadUsers);
    });
  });
  $("firm-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var f = this.elements;
    var body = { name: f.name.value.trim(), kind: "contractor" };
    if (f.monthly_fee.value !== "") body.monthly_fee = Number(f.monthly_fee.value);
    var form = this;
    Office.send("POST", "/api/v1/organisations", body).then(function (res) {
      showError("firm-error", res.ok ? null : res);
      if (!res.ok) return;
      form.reset();
      UI.toast(_("Added firm {name}", { name: res.data.name }), "ok");
      return loadFirms();
    });
  });

  // --- tokens ------------------------------------------------------------------------------
  function fillTokenUsers() {
    var select = $("token-user");
    var keep = select.value || String(me);
    UI.clear(select);
    state.users.filter(function (u) { return u.active; }).forEach(function (u) {
      select.appendChild(el("option", { value: String(u.id), text: u.display_name + " (@" + u.username + ", " + (ROLE[u.role] || u.role) + ")" }));
    });
    select.value = keep;
    if (!select.value && select.options.length) select.selectedIndex = 0;
  }
  function tokenFor(u) {
    $("token-user").value = String(u.id);
    var form = $("token-form");
    form.scrollIntoView({ behavior: "smooth", block: "center" });
    form.elements.name.focus();
  }
  function drawTokens() {
    var revoked = $("show-revoked").checked;
    var tbody = UI.clear($("tokens").tBodies[0]);
    state.tokens.filter(function (t) { return revoked || t.state === "active"; }).forEach(function (t) {
      tbody.appendChild(el("tr", { dataset: { id: t.id, state: t.state } }, [
        el("td", null, [el("b.data", { text: t.name }), " ", el("code.muted.data", { text: t.prefix + "…" })]),
        el("td.data", { text: t.username }),
        el("td.scopes", null, t.scopes.map(function (s) { return el("span.chip", { text: SCOPE[s] || s }); })),
        el("td", null, el("span.chip.state-" + t.state, { text: STATE[t.state] || t.state })),
        el("td.nowrap.col-opt", { text: UI.date(t.created_at) }),
        el("td.nowrap.col-opt", { text: t.last_used_at ? UI.dateTime(t.last_used_at) : "—" }),
        el("td.nowrap", { text: t.expires_at ? UI.date(t.expires_at) : _("never") }),
        el("td.actions-cell", null, t.state === "active"
          ? el("button.btn.danger", { type: "button", dataset: { act: "revoke" }, onclick: function () { revoke(t); } }, _("Revoke"))
          : null),
      ]));
    });
  }
  function loadTokens() {
    return all("/api/v1/tokens").then(function (items) {
      state.tokens = items.slice().reverse(); // newest first
      drawTokens();
    });
  }
  function revoke(t) {
    if (!window.confirm(_("Revoke the token {name} of {user}? It stops working at once.", { name: t.name, user: t.username }))) return;
    Office.send("POST", "/api/v1/tokens/" + t.id + "/revoke").then(function (res) {
      if (!res.ok) return UI.toast(Office.why(res), "error");
      UI.toast(_("Token revoked"), "ok");
      loadTokens();
    });
  }
  $("token-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var f = this.elements;
    var scopes = [].filter.call(this.querySelectorAll("input[name=scope]"), function (b) { return b.checked; }).map(function (b) { return b.value; });
    if (!scopes.length) {
      showError("token-error", { status: 422, data: { error: "invalid_request", message: _("choose at least one scope") } });
      return;
    }
    var body = { name: f.name.value.trim(), scopes: scopes };
    if (f.expires_in_days.value) body.expires_in_days = Number(f.expires_in_days.value);
    var uid = Number(f.user_id.value);
    var form = this;
    // Your own token through /tokens; anyone else's through /users/{id}/tokens.
    var url = uid === me ? "/api/v1/tokens" : "/api/v1/users/" + uid + "/tokens";
    $("token-create").disabled = true;
    Office.send("POST", url, body).then(function (res) {
      $("token-create").disabled = false;
      showError("token-error", res.ok ? null : res);
      if (!res.ok) return;
      form.elements.name.value = "";
      $("secret").textContent = res.data.token;
      $("secret-box").hidden = false;
      document.body.dataset.lastToken = String(res.data.id);
      return loadTokens();
    });
  });
  $("secret-copy").addEventListener("click", function () {
    var text = $("secret").textContent;
    var done = function () { UI.toast(_("Copied"), "ok"); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      var range = document.createRange();
      range.selectNodeContents($("secret"));
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
    }
  });
  $("secret-done").addEventListener("click", function () {
    $("secret").textContent = "";
    $("secret-box").hidden = true;
  });

  // --- wiring ------------------------------------------------------------------------------
  ["role-filter", "firm-filter", "show-disabled"].forEach(function (id) { $(id).addEventListener("change", drawUsers); });
  $("show-revoked").addEventListener("change", drawTokens);
  $("new-user").addEventListener("click", function () { openUser(null); });
  PEOPLE.reload = function () {
    return loadFirms().then(function () { return Promise.all([loadUsers(), loadTokens()]); });
  };
  PEOPLE.reload().then(function () {
    document.body.dataset.ready = "1";
  }, function (res) {
    UI.toast(Office.why(res), "error");
  });
})();
