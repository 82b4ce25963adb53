/* Plantroom's service worker (scope /ui/): the tablet opens and shows its work with no network.
 *
 * - The shell (scripts, styles, icons, the manifest) is kept per version: a deploy serves a new
 *   worker (its VERSION is a hash of the static files), which fetches the new shell and deletes
 *   the old one when it activates.
 * - Pages (/ui/, /ui/workorders/N, /ui/assets/X, /ui/scan) and API reads (/api/v1/...) go to the
 *   network first, with a short timeout, and fall back to what was kept. A work-order or asset
 *   page never opened here is served from another one's shell: the page's script reads the id
 *   from the address and renders from the API data kept for it.
 * - Pages and API answers belong to the signed-in user: sync.js deletes both caches on sign-out
 *   and when another user signs in. Nothing but GET is ever answered from here; POSTs go to the
 *   network as they are (sync.js queues them when it is down).
 */
"use strict";

var VERSION = "__PR_VERSION__";
var PRECACHE = "__PR_PRECACHE__";
var SHELL = "pr-shell-" + VERSION;
var PAGES = "pr-pages-1";
var DATA = "pr-data-1";
var KEEP = [SHELL, PAGES, DATA];
var NET_TIMEOUT_MS = 3500;
var PREFETCH_PARALLEL = 4;
var PAGE_PATH = /^\/ui\/(?:workorders\/\d+|assets\/[^/]+|scan)?$/;
var FROM_CACHE = "X-PR-From-Cache";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL).then(function (cache) {
      // One by one: a missing file must not stop the rest from being kept.
      return Promise.all(PRECACHE.map(function (url) {
        return cache.add(new Request(url, { cache: "no-cache" })).catch(function () {});
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) {
        return n.indexOf("pr-") === 0 && KEEP.indexOf(n) < 0;
      }).map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var req = event.request;
  if (req.method === "POST" && /\/ui\/(login|logout)$/.test(new URL(req.url).pathname)) {
    // Someone signs in or out: what the last user's pages and reads showed goes first (the
    // request itself goes on to the network untouched). sync.js clears them too, but only once
    // a page of the next user has loaded.
    event.waitUntil(Promise.all([caches["delete"](PAGES), caches["delete"](DATA)]));
    return;
  }
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if ((req.headers.get("Accept") || "").indexOf("text/event-stream") >= 0) return;
  var path = url.pathname;
  if (path.indexOf("/static/") === 0 || path === "/ui/manifest.webmanifest") {
    event.respondWith(shellFirst(req));
  } else if (path.indexOf("/api/v1/") === 0) {
    event.respondWith(networkFirst(req, DATA, dataKey(req.url)).then(function (res) {
      return res || offlineJson();
    }));
  } else if (PAGE_PATH.test(path)) {
    event.respondWith(networkFirst(req, PAGES, req.url).then(function (res) {
      return res || pageShell(path);
    }));
  }
});

self.addEventListener("message", function (event) {
  var msg = event.data || {};
  if (msg.type === "claim") {
    // A page that loaded while this worker was activating was left out of its first claim.
    event.waitUntil(self.clients.claim());
  } else if (msg.type === "prefetch" && Array.isArray(msg.urls)) {
    event.waitUntil(prefetch(msg.urls).then(function (n) {
      if (event.source) event.source.postMessage({ type: "prefetched", count: n });
    }));
  }
});

/** Static files: the kept copy, else the network (and keep it). */
function shellFirst(req) {
  return caches.open(SHELL).then(function (cache) {
    return cache.match(req, { ignoreSearch: true }).then(function (hit) {
      if (hit) return hit;
      return fetch(req).then(function (res) {
        if (res.ok) cache.put(req, res.clone());
        return res;
      });
    });
  });
}

/** Worth keeping: a full, direct answer (not a redirect to sign-in, not an error page). */
function keepable(res) {
  return res && res.status === 200 && !res.redirected && res.type === "basic";
}

/** An API answer's key in DATA: its address with the query's parameters in order, so a page
 *  asking with them in another order finds what the prefetch kept. */
function dataKey(url) {
  var u = new URL(url, self.location.origin);
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

/** The network, within NET_TIMEOUT_MS; else the kept copy under key (marked); else the
 *  network's answer whenever it comes; null when there is neither. */
function networkFirst(req, cacheName, key) {
  var net = fetch(req).then(function (res) {
    if (keepable(res)) {
      var copy = res.clone();
      caches.open(cacheName).then(function (cache) { return cache.put(key, copy); });
    }
    return res;
  });
  var timer;
  var timeout = new Promise(function (_resolve, reject) {
    timer = setTimeout(function () { reject(new Error("timeout")); }, NET_TIMEOUT_MS);
  });
  return Promise.race([net, timeout]).then(function (res) {
    clearTimeout(timer);
    return res;
  }, function () {
    clearTimeout(timer);
    return kept(key, cacheName).then(function (hit) {
      if (hit) return hit;
      return net.catch(function () { return null; });
    });
  });
}

/** The kept answer for url, marked as such for sync.js (fromCache), or null. Pages match
 *  whatever their query (the list keeps its tab and filters there). */
function kept(url, cacheName) {
  return caches.open(cacheName).then(function (cache) {
    return cache.match(url, { ignoreVary: true }).then(function (hit) {
      return hit || (cacheName === PAGES ? cache.match(url, { ignoreVary: true, ignoreSearch: true }) : hit);
    });
  }).then(function (hit) {
    if (!hit) return null;
    var headers = new Headers(hit.headers);
    headers.set(FROM_CACHE, "1");
    return hit.blob().then(function (body) {
      return new Response(body, { status: hit.status, statusText: hit.statusText, headers: headers });
    });
  });
}

/** A page never kept: another work order's (or asset's) shell, whose script renders this one
 *  from the address; else a short offline notice. */
function pageShell(path) {
  var kind = path.split("/")[2];
  return caches.open(PAGES).then(function (cache) {
    return cache.keys().then(function (reqs) {
      var same = reqs.filter(function (r) {
        return kind && new URL(r.url).pathname.split("/")[2] === kind;
      });
      if (!same.length) return null;
      return kept(same[same.length - 1].url, PAGES);
    });
  }).then(function (res) { return res || offlinePage(); });
}

function offlineJson() {
  return new Response(JSON.stringify({
    error: "offline", message: "offline, and nothing was kept for this address", detail: null
  }), { status: 503, headers: { "Content-Type": "application/json", "X-PR-Offline": "1" } });
}

function offlinePage() {
  var html = "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
    "<title>Plantroom</title><link rel=stylesheet href='/static/app.css'>" +
    "<main id=main class=offline-page><h1>Offline · 离线</h1>" +
    "<p>This page was not saved on this tablet. · 此页面未保存在本设备上。</p>" +
    "<p><a class=button href='/ui/'>My work · 我的工作</a></p></main>";
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

/** Fetch each url (a few at a time) and keep its answer: pages in PAGES, the rest in DATA.
 *  A kept answer with an ETag is revalidated (304 keeps it). Resolves to how many were kept. */
function prefetch(urls) {
  var queue = urls.slice();
  var count = 0;
  function one(url) {
    var path = new URL(url, self.location.origin).pathname;
    var page = PAGE_PATH.test(path);
    var cacheName = page ? PAGES : DATA;
    var key = page ? new URL(url, self.location.origin).href : dataKey(url);
    return caches.open(cacheName).then(function (cache) {
      return cache.match(key, { ignoreVary: true }).then(function (old) {
        var headers = {};
        var tag = old && old.headers.get("ETag");
        if (tag) headers["If-None-Match"] = tag;
        return fetch(url, { headers: headers, credentials: "same-origin", cache: "no-store" })
          .then(function (res) {
            if (res.status === 304) { count++; return; }
            if (keepable(res)) { count++; return cache.put(key, res); }
          });
      });
    }).catch(function () {});
  }
  function worker() {
    var url = queue.shift();
    if (url === undefined) return Promise.resolve();
    return one(url).then(worker);
  }
  var workers = [];
  for (var i = 0; i < PREFETCH_PARALLEL; i++) workers.push(worker());
  return Promise.all(workers).then(function () { return count; });
}
