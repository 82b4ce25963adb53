// The office's pages (work orders, people and access): changes go straight to the API with the
// session's CSRF token, never through the tablet's offline queue (an office change made with no
// network should fail in front of the person making it, not wait on a desk computer).
(function () {
  "use strict";
  var el = UI.el;
  function csrf() {
    if (window.PR && PR.csrf) return PR.csrf;
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  }
  var Office = (window.Office = {});

  // One request: resolves {ok, status, data}; status 0 when the network is down.
  Office.send = function (method, url, body, headers) {
    var h = Object.assign({ Accept: "application/json", "X-CSRF-Token": csrf() }, headers || {});
    var init = { method: method, credentials: "same-origin", headers: h };
    // A file upload goes as it is: the browser writes its multipart Content-Type.
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      h["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try {
          data = text ? JSON.parse(text) : null;
        } catch (e) {
          data = null;
        }
        return { ok: res.ok, status: res.status, data: data };
      });
    }, function () {
      return { ok: false, status: 0, data: null };
    });
  };

  // Why a request was refused, in the page's language, with the server's own words as data.
  var WHY = {
    not_found: _("not found, or not visible to you"),
    not_assignable: _("this person or firm cannot take it"),
    conflict: _("its state does not allow it"),
    forbidden: _("not allowed for your role"),
    precondition_failed: _("it changed meanwhile; reload"),
    invalid_request: _("the form is not valid"),
    csrf_failed: _("the page expired; reload it"),
    not_reopenable: _("only closed, verified or cancelled work reopens"),
  };
  Office.why = function (res) {
    if (!res || res.status === 0) return _("No network: nothing was changed.");
    var d = res.data || {};
    var code = d.error || "";
    var words = WHY[code] || _("refused ({status})", { status: res.status });
    return d.message ? words + ": " + d.message : words;
  };
  Office.whyNode = function (code, status, message) {
    var words = WHY[code] || _("refused ({status})", { status: status });
    return [el("span.why", { text: words }), message ? el("span.data.why-detail", { text: message }) : null];
  };

  // The "assign to" menu: people who take work, contractor firms, a firm's own people.
  // Values: "u:<user>", "c:<firm>", "u:<user>:<firm>" for a firm's person; "" for nobody.
  Office.loadAssignees = function () {
    return UI.get("/api/v1/assignees").then(function (res) {
      return res.ok && res.data ? res.data : { people: [], contractors: [] };
    });
  };
  var ROLE = { technician: _("technician"), engineer: _("engineer"), contractor: _("contractor") };
  Office.fillTargets = function (select, who, first) {
    UI.clear(select);
    select.appendChild(el("option", { value: "", text: first }));
    var firms = {};
    who.contractors.forEach(function (f) { firms[f.id] = f.name; });
    var staff = who.people.filter(function (p) { return p.role !== "contractor"; });
    var theirs = who.people.filter(function (p) { return p.role === "contractor" && firms[p.organisation_id]; });
    if (staff.length) {
      select.appendChild(el("optgroup", { label: _("Our people") }, staff.map(function (p) {
        return el("option", { value: "u:" + p.id, text: p.display_name + " (" + (ROLE[p.role] || p.role) + ")" });
      })));
    }
    if (who.contractors.length) {
      select.appendChild(el("optgroup", { label: _("Contractor firms") }, who.contractors.map(function (f) {
        return el("option", { value: "c:" + f.id, text: f.name });
      })));
    }
    if (theirs.length) {
      select.appendChild(el("optgroup", { label: _("A firm's person") }, theirs.map(function (p) {
        return el("option", { value: "u:" + p.id + ":" + p.organisation_id, text: p.display_name + " · " + firms[p.organisation_id] });
      })));
    }
  };
  // A menu value as an assignment body: {assignee_id, contractor_id}.
  Office.target = function (value) {
    var parts = (value || "").split(":");
    if (parts[0] === "c") return { assignee_id: null, contractor_id: Number(parts[1]) };
    if (parts[0] === "u") return { assignee_id: Number(parts[1]), contractor_id: parts[2] ? Number(parts[2]) : null };
    return { assignee_id: null, contractor_id: null };
  };
})();
