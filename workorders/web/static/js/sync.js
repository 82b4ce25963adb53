// window.PR: the tablet's offline-first layer (plan14.md, "Front end contract").
//
// - PR.api.get(url): the network, with a cached answer when it is down (the service worker
//   keeps the technician's open work: static/sw.js).
// - PR.api.act(action): every change goes through one ordered queue in IndexedDB. Each action
//   gets its Idempotency-Key and its device time (`at`) once, when it is made, so a replay is
//   applied exactly once with the time it happened. Queued changes to one work order chain
//   their If-Match: each uses the version the previous one's answer returned.
// - A 412 on replay opens a dialog with both versions; the queue waits until the technician
//   chooses. Refusals are kept as "failed" until discarded, never dropped silently.
// - The badge (#sync-badge) shows offline and the count of actions waiting. Signing out with
//   actions waiting warns first; they stay on the tablet, kept for their owner only, and sync
//   when that user signs in again. Pages and API answers cached for one user are deleted on
//   sign-out and whenever another user signs in.
(function () {
  "use strict";

  var DB_NAME = "plantroom-sync";
  var CACHES = ["pr-pages-1", "pr-data-1"]; // the user's own: cleared on sign-out (sw.js)
  var DATA_CACHE = "pr-data-1";
  var SEND_TIMEOUT_MS = 20000;
  var UPLOAD_TIMEOUT_MS = 90000;
  var GET_TIMEOUT_MS = 10000;
  var TICK_MS = 15000;
  var PREFETCH_EVERY_MS = 120000;
  var PREFETCH_MAX = 50;
  // The first page of "my work" as list.js asks for it (the query's order does not matter).
  var MY_WORK_URL = "/api/v1/workorders?assignee=me&limit=50&open=true&sort=urgency";
  // Endpoints that check If-Match (their answers' versions may be chained); the rest append.
  var GUARDED = /\/workorders\/\d+(\/(status|assign|take|checklist\/\d+))?$/;
  // Which body field carries the device time, by endpoint: `at`, or labor's `worked_at`.
  var TIMED_AT = /\/workorders(\/\d+\/(status|comments|assign|take|checklist\/\d+))?$/;
  var TIMED_WORKED_AT = /\/workorders\/\d+\/labor$/;

  var body = document.body;
  var tz = (body && body.dataset.tz) || undefined;
  var listeners = {};
  var waiters = {};
  var state = {
    online: navigator.onLine !== false,
    me: body && body.dataset.user ? Number(body.dataset.user) : null,
    csrf: null,
    signin: false,
    conflictOpen: false,
    loaded: false,
    items: [],
    others: 0,
  };

  function T(msgid, values) {
    return window._ ? window._(msgid, values) : msgid;
  }

  // --- IndexedDB ------------------------------------------------------------------------------
  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () {
          var d = req.result;
          d.createObjectStore("queue", { keyPath: "id", autoIncrement: true });
          d.createObjectStore("meta", { keyPath: "k" });
          d.createObjectStore("log", { keyPath: "id", autoIncrement: true });
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }
  function store(name, mode, fn) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var tx = d.transaction(name, mode);
        var result;
        Promise.resolve(fn(tx.objectStore(name))).then(function (r) { result = r; });
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  function req(r) {
    return new Promise(function (resolve, reject) {
      r.onsuccess = function () { resolve(r.result); };
      r.onerror = function () { reject(r.error); };
    });
  }
  function allItems() {
    return store("queue", "readonly", function (s) { return req(s.getAll()); }).then(function (xs) {
      return (xs || []).sort(function (a, b) { return a.id - b.id; });
    });
  }
  function saveItem(item) {
    return store("queue", "readwrite", function (s) { return req(s.put(item)); });
  }
  function dropItem(id) {
    return store("queue", "readwrite", function (s) { return req(s["delete"](id)); });
  }
  function getItem(id) {
    return store("queue", "readonly", function (s) { return req(s.get(id)); });
  }
  function meta(k, v) {
    if (v === undefined) {
      return store("meta", "readonly", function (s) { return req(s.get(k)); }).then(function (r) {
        return r ? r.v : null;
      });
    }
    return store("meta", "readwrite", function (s) { return req(s.put({ k: k, v: v })); });
  }
  function log(entry) {
    entry.ts = new Date().toISOString();
    return store("log", "readwrite", function (s) { return req(s.add(entry)); }).catch(function () {});
  }

  // --- events -----------------------------------------------------------------------------------
  function on(event, cb) {
    (listeners[event] = listeners[event] || []).push(cb);
    return function () {
      listeners[event] = (listeners[event] || []).filter(function (f) { return f !== cb; });
    };
  }
  function emit(event, detail) {
    (listeners[event] || []).slice().forEach(function (cb) {
      try { cb(detail); } catch (e) { setTimeout(function () { throw e; }); }
    });
  }
  function setOnline(online) {
    if (online === state.online) return;
    state.online = online;
    emit(online ? "online" : "offline", {});
    render();
    if (online) flushSoon();
  }

  // --- helpers ----------------------------------------------------------------------------------
  // An API answer's key in the cache: as sw.js's dataKey, the query's parameters in order.
  function dataKey(url) {
    var u = new URL(url, location.origin);
    var pairs = [];
    // Readings: one kept answer per asset and point, whatever the window (charts ask up to now).
    var skip = /\/readings$/.test(u.pathname) ? ["from", "to"] : [];
    u.searchParams.forEach(function (v, k) { if (skip.indexOf(k) < 0) pairs.push([k, v]); });
    pairs.sort(function (a, b) { return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0; });
    var q = new URLSearchParams();
    pairs.forEach(function (p) { q.append(p[0], p[1]); });
    u.search = q.toString();
    u.hash = "";
    return u.href;
  }
  function pad(n, w) {
    var s = String(Math.abs(n));
    while (s.length < (w || 2)) s = "0" + s;
    return s;
  }
  // The device's time now, ISO 8601 with its UTC offset (the API's `at`).
  function deviceTime() {
    var d = new Date();
    var off = -d.getTimezoneOffset();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." +
      pad(d.getMilliseconds(), 3) + (off >= 0 ? "+" : "-") + pad(Math.floor(Math.abs(off) / 60)) +
      ":" + pad(Math.abs(off) % 60);
  }
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "k-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }
  function version(v) {
    if (v === null || v === undefined || v === "") return null;
    var m = String(v).match(/\d+/);
    return m ? Number(m[0]) : null;
  }
  function pathOf(url) {
    return new URL(url, location.origin).pathname;
  }
  function when(iso) {
    if (!iso) return "";
    if (window.UI && UI.dateTime) return UI.dateTime(iso);
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || "en", {
        timeZone: tz, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      }).format(new Date(iso));
    } catch (e) {
      return iso;
    }
  }
  function timed(url, method, data, at) {
    var path = pathOf(url);
    var out = Object.assign({}, data || {});
    if (TIMED_WORKED_AT.test(path)) {
      if (!("worked_at" in out)) out.worked_at = at;
    } else if (method === "POST" && TIMED_AT.test(path)) {
      if (!("at" in out)) out.at = at;
    }
    return out;
  }
  function fetchT(url, opts, ms) {
    var ctl = window.AbortController ? new AbortController() : null;
    var timer = ctl && setTimeout(function () { ctl.abort(); }, ms);
    if (ctl) opts = Object.assign({ signal: ctl.signal }, opts);
    return fetch(url, opts).then(function (res) {
      clearTimeout(timer);
      return res;
    }, function (err) {
      clearTimeout(timer);
      throw err;
    });
  }
  function readJson(res) {
    if ((res.headers.get("Content-Type") || "").indexOf("json") < 0) return Promise.resolve(null);
    return res.json().catch(function () { return null; });
  }
  function csrf() {
    if (state.csrf) return state.csrf;
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  function summary(item) {
    return {
      id: item.id, woId: item.woId, kind: item.kind, label: item.label, at: item.at,
      method: item.method, url: item.url, body: item.body, state: item.state, error: item.error || null,
      file: item.file ? { name: item.file.name, size: item.file.blob ? item.file.blob.size : 0 } : null,
    };
  }
  function mine(items) {
    return items.filter(function (i) { return i.owner === state.me || i.owner === null; });
  }

  // --- the session ------------------------------------------------------------------------------
  // Who is signed in and the live CSRF token, from the server; null when offline or signed out.
  function session() {
    return fetchT("/ui/session", { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } }, GET_TIMEOUT_MS)
      .then(function (res) {
        return res.json();
      }).then(function (s) {
        setOnline(true);
        if (!s || !s.user) {
          state.signin = true;
          render();
          return null;
        }
        state.signin = false;
        state.csrf = s.csrf;
        return adopt(s.user.id).then(function () { return s; });
      }, function () {
        setOnline(false);
        return null;
      });
  }
  // The tablet's user is uid: when it was someone else, their cached pages and data go. (After
  // a sign-out here, none is kept: signOut cleared them, and left no user.)
  function adopt(uid) {
    return meta("user").then(function (last) {
      state.me = uid;
      if (last === uid) return;
      var gone = last !== null && last !== undefined ? clearUserData() : Promise.resolve();
      return gone.then(function () { return meta("user", uid); });
    }).catch(function () {});
  }
  function clearUserData() {
    try { localStorage.removeItem("pr-prefetched"); } catch (e) { /* private mode */ }
    if (!window.caches) return Promise.resolve();
    return Promise.all(CACHES.map(function (n) { return caches["delete"](n); }));
  }

  // --- reading ----------------------------------------------------------------------------------
  function cached(url) {
    if (!window.caches) return Promise.resolve(null);
    return caches.open(DATA_CACHE).then(function (c) { return c.match(dataKey(url), { ignoreVary: true }); })
      .then(function (hit) {
        if (!hit) return null;
        return readJson(hit).then(function (data) {
          return { ok: true, status: hit.status, data: data, etag: hit.headers.get("ETag"), fromCache: true };
        });
      }, function () { return null; });
  }
  function offlineAnswer(url) {
    return cached(url).then(function (hit) {
      return hit || { ok: false, status: 0, data: null, etag: null, fromCache: false, offline: true };
    });
  }
  // GET url: {ok, status, data, etag, fromCache}. opts.etag asks for 304 when unchanged.
  // The page's user adopts the tablet before its first read: another user's kept pages and data
  // are deleted first, so a slow network never falls back to what they saw.
  var adopted = null;
  function get(url, opts) {
    if (adopted === null) adopted = state.me !== null ? adopt(state.me) : Promise.resolve();
    return adopted.then(function () { return getNow(url, opts); });
  }
  function getNow(url, opts) {
    var headers = { Accept: "application/json" };
    if (opts && opts.etag) headers["If-None-Match"] = opts.etag;
    return fetchT(url, { headers: headers, credentials: "same-origin" }, GET_TIMEOUT_MS).then(function (res) {
      if (res.headers.get("X-PR-Offline") === "1") {
        setOnline(false);
        return offlineAnswer(url);
      }
      var fromCache = res.headers.get("X-PR-From-Cache") === "1";
      setOnline(!fromCache);
      if (res.status === 304) {
        return { ok: true, status: 304, data: null, etag: res.headers.get("ETag") || (opts && opts.etag), fromCache: false };
      }
      return readJson(res).then(function (data) {
        return { ok: res.ok, status: res.status, data: data, etag: res.headers.get("ETag"), fromCache: fromCache };
      });
    }, function () {
      setOnline(false);
      return offlineAnswer(url);
    });
  }
  // Keep a work order's fresh detail in the cache the page reads offline.
  function keepDetail(woId, data, etag) {
    if (!window.caches || !woId || !data || data.id !== woId) return Promise.resolve();
    var headers = { "Content-Type": "application/json" };
    if (etag || data.version !== undefined) headers.ETag = etag || '"' + data.version + '"';
    return caches.open(DATA_CACHE).then(function (c) {
      return c.put(dataKey("/api/v1/workorders/" + woId), new Response(JSON.stringify(data), { headers: headers }));
    }).catch(function () {});
  }

  // --- acting -----------------------------------------------------------------------------------
  // Queue one change and send it when the network allows. Resolves {state, data, error}.
  function act(a) {
    var at = deviceTime();
    var method = (a.method || "POST").toUpperCase();
    var file = null;
    if (a.file) {
      var fields = Object.assign({}, a.file.fields || {});
      if (!("at" in fields)) fields.at = at;
      file = { field: a.file.field || "file", blob: a.file.blob, name: a.file.name || "photo.jpg", fields: fields };
    }
    var item = {
      key: newKey(),
      owner: state.me,
      woId: a.woId === undefined || a.woId === null ? null : Number(a.woId),
      kind: a.kind || "",
      label: a.label || a.kind || "",
      method: method,
      url: a.url,
      body: file ? null : timed(a.url, method, a.body, at),
      ifMatch: version(a.ifMatch),
      file: file,
      at: at,
      state: "queued",
      error: null,
      tries: 0,
      nextTry: 0,
      created: Date.now(),
    };
    return saveItem(item).then(function (id) {
      item.id = id;
      var done = new Promise(function (resolve) { waiters[id] = resolve; });
      emit("queued", { woId: item.woId, action: summary(item) });
      refresh();
      flush(true);
      return done;
    });
  }
  function settle(id, result) {
    var w = waiters[id];
    if (w) {
      delete waiters[id];
      w(result);
    }
  }
  function settleAll() {
    Object.keys(waiters).forEach(function (id) { settle(Number(id), { state: "queued", data: null, error: null }); });
  }

  // --- the queue ------------------------------------------------------------------------------------
  var flushing = null;
  var again = false;
  var retryTimer = null;
  function flushSoon() {
    setTimeout(function () { flush(true); }, 0);
  }
  // Send what waits, in order. `now`: a new chance (load, back online, "Sync now", a new
  // action), so the waits between retries start again.
  function flush(now) {
    if (flushing) {
      again = again === true || now === true ? true : "later";
      return flushing;
    }
    var run = function () { return session().then(function (s) { return s ? loop(now === true) : null; }); };
    var p = navigator.locks ? navigator.locks.request("pr-flush", run) : run();
    flushing = p.catch(function (e) { if (window.console) console.error(e); }).then(function () {
      flushing = null;
      refresh();
      if (again) { // an action came meanwhile: its caller waits for this next round's answer
        var force = again === true;
        again = false;
        flush(force);
      } else {
        settleAll(); // what is left waits (offline, behind a conflict, retrying later)
      }
    });
    return flushing;
  }
  function loop(now) {
    return allItems().then(function (items) {
      items = mine(items);
      var conflict = items.filter(function (i) { return i.state === "conflict"; })[0];
      if (conflict) {
        openConflict(conflict);
        return null;
      }
      var next = items.filter(function (i) { return i.state === "queued" || i.state === "sending"; })[0];
      if (!next) return null;
      var wait = now ? 0 : (next.nextTry || 0) - Date.now();
      if (wait > 0) {
        retryLater(wait);
        return null;
      }
      return send(next).then(function (go) { return go ? loop(false) : null; });
    });
  }
  function retryLater(ms) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, Math.max(500, ms));
  }
  function backoff(item, ms) {
    item.state = "queued";
    item.nextTry = Date.now() + (ms || Math.min(60000, 1000 * Math.pow(2, Math.min(item.tries, 6))));
    return saveItem(item).then(function () {
      retryLater(item.nextTry - Date.now());
      return false;
    });
  }
  // One send; resolves true to go on with the next action, false to stop for now.
  function send(item) {
    if (item.owner === null) item.owner = state.me;
    var headers = { Accept: "application/json", "Idempotency-Key": item.key, "X-CSRF-Token": csrf() };
    if (item.ifMatch !== null && item.ifMatch !== undefined) headers["If-Match"] = '"' + item.ifMatch + '"';
    var payload;
    if (item.file) {
      payload = new FormData();
      Object.keys(item.file.fields || {}).forEach(function (k) { payload.append(k, item.file.fields[k]); });
      payload.append(item.file.field, item.file.blob, item.file.name);
    } else if (item.body !== null && item.method !== "GET") {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(item.body);
    }
    item.state = "sending";
    item.tries += 1;
    var sentIfMatch = item.ifMatch;
    return saveItem(item).then(function () {
      return fetchT(item.url, { method: item.method, headers: headers, body: payload, credentials: "same-origin" },
        item.file ? UPLOAD_TIMEOUT_MS : SEND_TIMEOUT_MS);
    }).then(function (res) {
      return readJson(res).then(function (data) { return answered(item, res, data, sentIfMatch); });
    }, function () {
      // No answer: the request may or may not have landed; the same key makes the retry safe.
      setOnline(false);
      item.state = "queued";
      return saveItem(item).then(function () { return false; });
    });
  }
  function errorOf(res, data) {
    var d = data || {};
    var why = d.message || (typeof d.detail === "string" ? d.detail : "") || d.error || res.statusText || String(res.status);
    if (Array.isArray(d.detail) && d.detail.length && d.detail[0].message) {
      // A refused field: "body.hours: Input should be less than or equal to 24".
      why = d.detail.map(function (f) { return (f.field ? f.field.replace(/^body\./, "") + ": " : "") + f.message; }).join("; ");
    }
    return {
      status: res.status,
      error: why,
      code: d.error || null,
      detail: d.detail === undefined ? null : d.detail,
    };
  }
  function answered(item, res, data, sentIfMatch) {
    var status = res.status;
    setOnline(true);
    if (status >= 200 && status < 300) return sent(item, res, data, sentIfMatch);
    if (status === 412) {
      item.state = "conflict";
      item.error = errorOf(res, data);
      item.conflictAt = sentIfMatch;
      return saveItem(item).then(function () {
        emit("conflict", { woId: item.woId, action: summary(item) });
        settle(item.id, { state: "conflict", data: null, error: item.error });
        openConflict(item);
        return false;
      });
    }
    if (status === 409 && data && data.error === "idempotency_key_in_use") return backoff(item, 2000);
    if (status >= 500) return backoff(item);
    // Every other answer was stored under the key with no effect: a retry needs a new key.
    if (status === 423 || status === 429) {
      item.key = newKey();
      var after = Number(res.headers.get("Retry-After"));
      return backoff(item, after > 0 ? after * 1000 : 0);
    }
    if (status === 401 || (status === 403 && data && /csrf/i.test(data.error || ""))) {
      item.key = newKey();
      if (status === 403 && !item.csrfRetried) {
        item.csrfRetried = true;
        state.csrf = null;
        return session().then(function (s) {
          if (!s) return backoff(item, TICK_MS);
          item.state = "queued";
          return saveItem(item).then(function () { return true; });
        });
      }
      state.signin = true;
      return backoff(item, TICK_MS);
    }
    item.state = "failed";
    item.error = errorOf(res, data);
    return saveItem(item).then(function () {
      emit("failed", { woId: item.woId, action: summary(item), error: item.error });
      settle(item.id, { state: "failed", data: data, error: item.error });
      return true; // a refusal does not hold up the rest
    });
  }
  function sent(item, res, data, sentIfMatch) {
    var etag = res.headers.get("ETag");
    var v = data && data.version !== undefined ? data.version : version(etag);
    var chain = Promise.resolve();
    if (GUARDED.test(pathOf(item.url)) && sentIfMatch !== null && v !== null) {
      // The next queued changes to this work order were made on top of this one.
      chain = allItems().then(function (items) {
        return Promise.all(items.filter(function (i) {
          return i.id > item.id && i.woId === item.woId && i.ifMatch === sentIfMatch && i.state !== "conflict";
        }).map(function (i) {
          i.ifMatch = v;
          return saveItem(i);
        }));
      });
    }
    return chain.then(function () { return dropItem(item.id); }).then(function () {
      settle(item.id, { state: "sent", data: data, error: null });
      var done = { woId: item.woId, data: data, action: summary(item), wo: null };
      if (data && data.id === item.woId && data.events) {
        keepDetail(item.woId, data, etag);
        done.wo = data;
        emit("synced", done);
      } else if (item.woId) {
        // A photo answers with the attachment: fetch (and keep) the work order as it is now,
        // for the page to redraw from.
        var more = item.file ? get("/api/v1/workorders/" + item.woId + "/attachments") : Promise.resolve();
        more.then(function () { return get("/api/v1/workorders/" + item.woId); }).then(function (r) {
          done.wo = r.ok && !r.fromCache ? r.data : null;
          emit("synced", done);
        });
      } else {
        emit("synced", done);
      }
      return true;
    });
  }

  // --- conflicts ------------------------------------------------------------------------------------
  var FIELDS = {
    status: T("Status"),
    priority: T("Priority"),
    title: T("Title"),
    description: T("Description"),
    type: T("Type"),
    checklist: T("Checklist"),
    assignee_id: T("Assignee"),
    contractor_id: T("Contractor"),
    hold_reason: T("Hold reason"),
    cause_code: T("Cause code"),
    resolution_code: T("Resolution code"),
    asset_id: T("Asset"),
    response_due_at: T("Respond by"),
    resolution_due_at: T("Resolve by"),
  };
  function statusName(s) {
    return (window.UI && UI.STATUS && UI.STATUS[s]) || s || "—";
  }
  function doneName(done) {
    return done === true ? T("Done") : done === false ? T("Not done") : T("Not checked");
  }
  function show(v) {
    if (v === null || v === undefined || v === "") return "—";
    if (typeof v === "boolean") return v ? T("Yes") : T("No");
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  }
  // [label, yours, the server's] for each field the action sets.
  function touched(item, wo) {
    var b = item.body || {};
    var path = pathOf(item.url);
    var rows = [];
    var m;
    if (/\/status$/.test(path)) {
      rows.push([T("Status"), statusName(b.status), statusName(wo.status)]);
      if (b.reason || wo.hold_reason) rows.push([T("Hold reason"), show(b.reason), show(wo.hold_reason)]);
      if (b.cause_code) rows.push([T("Cause code"), b.cause_code, show(wo.cause_code)]);
      if (b.resolution_code) rows.push([T("Resolution code"), b.resolution_code, show(wo.resolution_code)]);
      if (b.note) rows.push([T("Note"), b.note, ""]);
    } else if ((m = path.match(/\/checklist\/(\d+)$/))) {
      var line = (wo.checklist || [])[Number(m[1])] || {};
      rows.push([
        T("Checklist: {item}", { item: line.item || "#" + (Number(m[1]) + 1) }),
        doneName(b.done) + (b.result ? " · " + b.result : ""),
        doneName(line.done) + (line.result ? " · " + line.result : "") + (line.by ? " (" + line.by + ")" : ""),
      ]);
    } else if (/\/(assign|take)$/.test(path)) {
      rows.push([T("Assignee"), b.assignee_id ? show(b.assignee_id) : T("Me"), show(wo.assignee_name || wo.assignee_id)]);
      if ("contractor_id" in b) rows.push([T("Contractor"), show(b.contractor_id), show(wo.contractor_name || wo.contractor_id)]);
    } else {
      Object.keys(b).filter(function (k) { return k !== "at"; }).forEach(function (k) {
        rows.push([k, show(b[k]), show(wo[k])]);
      });
    }
    return rows;
  }
  // What an audit entry changed, in words: "Priority: P1; Respond by: 12-07 09:30".
  function changed(entry) {
    var after = entry.after || {};
    var keys = Object.keys(after);
    if (!keys.length) return entry.action;
    return keys.map(function (k) {
      var v = after[k];
      var label = FIELDS[k] || k;
      if (k === "status") v = statusName(v);
      else if (/_at$/.test(k) && typeof v === "string") v = when(v);
      else if (v !== null && typeof v === "object") return label;
      return label + ": " + show(v);
    }).join("; ");
  }
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }
  function dialog(id) {
    var d = document.getElementById(id);
    if (d) d.remove();
    d = el("dialog", "pr-dialog");
    d.id = id;
    d.addEventListener("cancel", function (e) { e.preventDefault(); }); // Esc decides nothing
    document.body.appendChild(d);
    return d;
  }
  function button(text, cls, onclick) {
    var b = el("button", "pr-btn " + (cls || ""), text);
    b.type = "button";
    b.addEventListener("click", onclick);
    return b;
  }
  function loadServer(item) {
    var base = "/api/v1/workorders/" + item.woId;
    var opts = { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } };
    var detail = fetchT(base, opts, GET_TIMEOUT_MS).then(function (r) {
      return r.ok && r.headers.get("X-PR-From-Cache") !== "1" ? r.json().then(function (d) {
        return { data: d, etag: r.headers.get("ETag") };
      }) : null;
    }).catch(function () { return null; });
    var audit = fetchT(base + "/audit", opts, GET_TIMEOUT_MS).then(function (r) {
      return r.ok && r.headers.get("X-PR-From-Cache") !== "1" ? r.json() : [];
    }).catch(function () { return []; });
    return Promise.all([detail, audit]);
  }
  function openConflict(item) {
    if (state.conflictOpen || !item.woId) return;
    state.conflictOpen = true;
    render();
    loadServer(item).then(function (got) {
      var server = got[0] && got[0].data;
      var since = item.conflictAt === undefined ? item.ifMatch : item.conflictAt;
      var changes = (got[1] || []).filter(function (e) {
        return e.version !== null && since !== null && e.version > since;
      });
      var current = server ? server.version : version(item.error && item.error.detail && item.error.detail.current_etag);
      var d = dialog("pr-conflict");
      d.setAttribute("aria-labelledby", "pr-conflict-title");
      var h = el("h2", null, T("Changed on the server since you made this change"));
      h.id = "pr-conflict-title";
      d.appendChild(h);
      d.appendChild(el("p", "pr-sub", T("Work order #{n}", { n: item.woId }) + (server ? " · " + server.title : "")));
      var grid = el("div", "pr-versions");
      var yours = el("section", "pr-yours");
      yours.appendChild(el("h3", null, T("Yours")));
      yours.appendChild(el("p", "pr-what", T("Made on this tablet at {t}", { t: when(item.at) })));
      var theirs = el("section", "pr-theirs");
      theirs.appendChild(el("h3", null, T("On the server now")));
      var who = changes.length ? changes[0] : null; // the change that came between
      theirs.appendChild(el("p", "pr-what", who ? T("Changed by {who} at {t}", { who: who.actor, t: when(who.action_at || who.ts) }) : server ? T("Changed by someone else") : T("The server's version could not be loaded.")));
      var rows = server ? touched(item, server) : touched(item, {}).map(function (r) { return [r[0], r[1], "?"]; });
      var ly = el("dl"), lt = el("dl");
      rows.forEach(function (r) {
        ly.appendChild(el("dt", null, r[0]));
        ly.appendChild(el("dd", null, r[1]));
        lt.appendChild(el("dt", null, r[0]));
        var dd = el("dd", null, r[2]);
        if (r[1] !== r[2]) dd.className = "pr-differs";
        lt.appendChild(dd);
      });
      yours.appendChild(ly);
      theirs.appendChild(lt);
      if (changes.length) {
        var ul = el("ul", "pr-changes");
        changes.forEach(function (c) {
          ul.appendChild(el("li", null, when(c.action_at || c.ts) + " · " + c.actor + " · " + changed(c)));
        });
        theirs.appendChild(ul);
      }
      grid.appendChild(yours);
      grid.appendChild(theirs);
      d.appendChild(grid);
      d.appendChild(el("p", "pr-ask", T("Which one should the work order keep?")));
      var bar = el("div", "pr-buttons");
      bar.appendChild(button(T("Keep mine"), "pr-primary pr-keep-mine", function () {
        decide(d, item, "mine", current, server);
      }));
      bar.appendChild(button(T("Keep the server's"), "pr-keep-server", function () {
        decide(d, item, "server", current, server);
      }));
      d.appendChild(bar);
      d.showModal();
    });
  }
  function decide(d, item, choice, current, server) {
    d.close();
    d.remove();
    getItem(item.id).then(function (fresh) {
      if (!fresh || fresh.state !== "conflict") return null; // decided elsewhere
      log({ choice: choice, action: summary(fresh), server: server ? { version: server.version, status: server.status } : null });
      if (choice === "server") {
        return dropItem(fresh.id).then(function () {
          if (server) keepDetail(fresh.woId, server, null);
          emit("dropped", { woId: fresh.woId, action: summary(fresh), data: server });
        });
      }
      fresh.state = "queued";
      fresh.ifMatch = current;
      fresh.key = newKey(); // the 412 is stored under the old key
      fresh.error = null;
      fresh.nextTry = 0;
      delete fresh.conflictAt;
      return saveItem(fresh);
    }).then(function () {
      state.conflictOpen = false;
      refresh();
      flush(true);
    });
  }

  // --- the badge and the queue's panel -----------------------------------------------------------
  function refresh() {
    return allItems().then(function (items) {
      var own = mine(items);
      state.items = own;
      state.others = items.length - own.length;
      state.loaded = true;
      render();
      emit("change", { pending: own.map(summary) });
    }).catch(function () {});
  }
  function render() {
    var badge = document.getElementById("sync-badge");
    if (!badge || !state.loaded) return; // nothing said before the queue is read
    var items = state.items;
    var waiting = items.filter(function (i) { return i.state === "queued" || i.state === "sending"; }).length;
    var failed = items.filter(function (i) { return i.state === "failed"; }).length;
    var conflict = items.filter(function (i) { return i.state === "conflict"; }).length;
    var parts = [];
    if (!state.online) parts.push(["pr-offline", T("Offline")]);
    else if (state.signin && items.length) parts.push(["pr-signin", T("Sign in to sync")]);
    if (waiting) parts.push(["pr-waiting", T("{n} waiting to sync", { n: waiting })]);
    if (conflict) parts.push(["pr-conflict", T("Conflict: choose a version")]);
    if (failed) parts.push(["pr-failed", T("{n} failed", { n: failed })]);
    if (!parts.length) parts.push(["pr-synced", T("Synced")]);
    var btn = badge.querySelector("button.pr-badge");
    if (!btn) {
      btn = el("button", "pr-badge");
      btn.type = "button";
      btn.addEventListener("click", openPanel);
      badge.textContent = "";
      badge.appendChild(btn);
      badge.setAttribute("role", "status");
      badge.setAttribute("aria-live", "polite");
    }
    btn.textContent = "";
    parts.forEach(function (p) { btn.appendChild(el("span", "pr-chip " + p[0], p[1])); });
    badge.dataset.online = state.online ? "1" : "0";
    badge.dataset.pending = String(waiting + failed + conflict);
    btn.title = state.others ? T("{n} actions of another user wait on this tablet until they sign in", { n: state.others }) : "";
  }
  function openPanel() {
    var d = dialog("pr-queue");
    d.setAttribute("aria-labelledby", "pr-queue-title");
    var h = el("h2", null, T("Changes on this tablet"));
    h.id = "pr-queue-title";
    d.appendChild(h);
    d.appendChild(el("p", "pr-sub", state.online ? T("Online") : T("Offline: changes are kept here and sent when the network returns.")));
    var items = state.items;
    if (!items.length) d.appendChild(el("p", null, T("Everything is synced.")));
    var ul = el("ul", "pr-list");
    items.forEach(function (i) {
      var li = el("li", "pr-item pr-" + i.state);
      li.appendChild(el("span", "pr-label", i.label + (i.woId ? " · #" + i.woId : "")));
      li.appendChild(el("span", "pr-at", when(i.at)));
      var st = i.state === "failed" ? T("Failed: {why}", { why: i.error ? i.error.error : "" })
        : i.state === "conflict" ? T("Conflict: choose a version") : T("Waiting to sync");
      li.appendChild(el("span", "pr-state", st));
      if (i.state === "failed") {
        li.appendChild(button(T("Try again"), "pr-retry", function () {
          i.state = "queued";
          i.key = newKey();
          i.error = null;
          i.nextTry = 0;
          saveItem(i).then(function () { d.close(); d.remove(); refresh(); flush(true); });
        }));
        li.appendChild(button(T("Discard"), "pr-danger pr-discard", function () {
          log({ choice: "discard", action: summary(i) });
          dropItem(i.id).then(function () {
            emit("dropped", { woId: i.woId, action: summary(i), data: null });
            d.close(); d.remove(); refresh();
          });
        }));
      }
      ul.appendChild(li);
    });
    d.appendChild(ul);
    var bar = el("div", "pr-buttons");
    if (items.length) bar.appendChild(button(T("Sync now"), "pr-primary pr-sync", function () { d.close(); d.remove(); flush(true); }));
    bar.appendChild(button(T("Close"), "pr-close", function () { d.close(); d.remove(); }));
    d.appendChild(bar);
    d.showModal();
  }

  // --- signing out ----------------------------------------------------------------------------------
  function ask(title, text, ok, cancel) {
    return new Promise(function (resolve) {
      var d = dialog("pr-ask");
      d.setAttribute("role", "alertdialog");
      d.appendChild(el("h2", null, title));
      text.forEach(function (t) { d.appendChild(el("p", null, t)); });
      var bar = el("div", "pr-buttons");
      if (cancel) bar.appendChild(button(cancel, "pr-primary pr-cancel", function () { d.close(); d.remove(); resolve(false); }));
      bar.appendChild(button(ok, (cancel ? "pr-danger" : "pr-primary") + " pr-ok", function () { d.close(); d.remove(); resolve(true); }));
      d.appendChild(bar);
      d.showModal();
    });
  }
  function signOut(form) {
    return session().then(function (s) {
      if (!state.online) {
        return ask(T("You are offline"), [T("Signing out needs the network. Your changes stay on this tablet.")], T("OK"));
      }
      var data = new FormData(form);
      if (s) data.set("csrf", s.csrf);
      return fetch(form.action, { method: "POST", body: data, credentials: "same-origin" }).then(function () {
        return clearUserData().then(function () { return meta("user", null); });
      }).then(function () {
        location.assign("/ui/login");
      }, function () {
        setOnline(false);
        return ask(T("You are offline"), [T("Signing out needs the network. Your changes stay on this tablet.")], T("OK"));
      });
    });
  }
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form || form.id !== "signout") return;
    ev.preventDefault();
    allItems().then(function (items) {
      var n = mine(items).length;
      if (!n) return signOut(form);
      return ask(
        T("Changes not yet synced"),
        [
          n === 1 ? T("1 change made on this tablet has not reached the server yet.")
            : T("{n} changes made on this tablet have not reached the server yet.", { n: n }),
          T("If you sign out, they stay on this tablet and are sent when you sign in again. Nobody else can see or send them."),
        ],
        T("Sign out, keep them here"),
        T("Stay signed in")
      ).then(function (yes) { return yes ? signOut(form) : null; });
    });
  }, true);

  // --- keeping the technician's work for offline ------------------------------------------------
  function prefetch(force) {
    var stamp = 0;
    try { stamp = Number(localStorage.getItem("pr-prefetched")) || 0; } catch (e) { /* private mode */ }
    if (!force && Date.now() - stamp < PREFETCH_EVERY_MS) return Promise.resolve(0);
    return get(MY_WORK_URL).then(function (r) {
      if (!r.ok || r.fromCache || !r.data) return 0;
      var urls = ["/ui/", "/ui/scan", "/api/v1/codes", MY_WORK_URL];
      (r.data.items || []).slice(0, PREFETCH_MAX).forEach(function (wo) {
        var w = "/api/v1/workorders/" + wo.id;
        urls.push(w, "/ui/workorders/" + wo.id, w + "/attachments");
        if (wo.asset_id) {
          // As asset.js asks: the asset, its open work and the first page of its history.
          var a = encodeURIComponent(wo.asset_id);
          urls.push("/api/v1/assets/" + a, "/ui/assets/" + a, "/api/v1/assets/" + a + "/history?limit=20",
            "/api/v1/workorders?asset_id=" + a + "&limit=100&open=true&sort=urgency");
        }
        if (typeof PR.prefetchExtra === "function") urls = urls.concat(PR.prefetchExtra(wo) || []);
      });
      urls = urls.filter(function (u, i) { return urls.indexOf(u) === i; });
      try { localStorage.setItem("pr-prefetched", String(Date.now())); } catch (e) { /* private mode */ }
      if (!navigator.serviceWorker) return 0;
      return navigator.serviceWorker.ready.then(function (reg) {
        return new Promise(function (resolve) {
          var done = function (ev) {
            if (ev.data && ev.data.type === "prefetched") {
              navigator.serviceWorker.removeEventListener("message", done);
              emit("prefetched", { count: ev.data.count });
              resolve(ev.data.count);
            }
          };
          navigator.serviceWorker.addEventListener("message", done);
          reg.active.postMessage({ type: "prefetch", urls: urls });
        });
      });
    });
  }

  // --- start ----------------------------------------------------------------------------------------
  function busy() {
    if (state.conflictOpen || document.querySelector("dialog[open]")) return true;
    var a = document.activeElement;
    if (!a) return false;
    if (a.isContentEditable || a.tagName === "TEXTAREA" || a.tagName === "SELECT") return true;
    return a.tagName === "INPUT" && !/^(button|submit|reset|checkbox|radio|file|image)$/i.test(a.type);
  }
  function pending(woId) {
    return allItems().then(function (items) {
      return mine(items).filter(function (i) {
        return woId === undefined || woId === null || i.woId === Number(woId);
      }).map(summary);
    });
  }
  function logEntries() {
    return store("log", "readonly", function (s) { return req(s.getAll()); });
  }

  var PR = (window.PR = {
    api: { get: get, act: act, pending: pending },
    on: on,
    busy: busy,
    flush: flush,
    prefetch: prefetch,
    log: logEntries,
    MY_WORK_URL: MY_WORK_URL,
    prefetchExtra: null,
    deviceTime: deviceTime,
  });
  Object.defineProperty(PR, "csrf", { get: csrf, enumerable: true });
  Object.defineProperty(PR, "online", { get: function () { return state.online; }, enumerable: true });

  // The badge's and dialogs' style, for a page whose template does not link it.
  if (!document.querySelector('link[href*="css/pwa.css"]')) {
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = "/static/css/pwa.css";
    document.head.appendChild(css);
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/ui/sw.js", { scope: "/ui/" }).catch(function () {});
    navigator.serviceWorker.ready.then(function (reg) {
      if (!navigator.serviceWorker.controller && reg.active) reg.active.postMessage({ type: "claim" });
    });
  }
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(function () {});
  window.addEventListener("online", function () { setOnline(true); flush(true); });
  window.addEventListener("offline", function () { setOnline(false); });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) flush(); });
  setInterval(function () {
    if (state.conflictOpen) return;
    if (!state.online || state.items.some(function (i) { return i.state === "queued" || i.state === "sending"; })) flush();
  }, TICK_MS);
  function start() {
    render();
    refresh();
    flush(true).then(function () {
      if (state.online && !state.signin) {
        return meta("prefetched-for").then(function (uid) {
          var force = uid !== state.me;
          return prefetch(force).then(function () { return meta("prefetched-for", state.me); });
        });
      }
    }).catch(function () {});
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
