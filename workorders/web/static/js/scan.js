// The scan page: read an asset's QR code with the camera and open the asset's page.
// Asset labels encode the occupant page's address, .../r/{asset_id} (workorders/assets/routes.py,
// qr.svg); a code holding /ui/assets/{asset_id} or a bare asset id works too. The decoder runs in
// a worker served by the app (static/vendor/qr-scanner-worker.min.js). Typing the id works with
// no camera.
(function () {
  "use strict";
  var root = document.getElementById("scan");
  if (!root) return;
  var video = document.getElementById("scan-video");
  var status = document.getElementById("scan-status");
  var form = document.getElementById("scan-manual");
  var input = document.getElementById("scan-asset");
  var FRAME_MS = 150;
  var MAX_SIDE = 800;
  var ASSET_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
  var stream = null;
  var worker = null;
  var stopped = false;
  var decoding = false;
  var seq = 0;

  function T(msgid, values) {
    return window._ ? window._(msgid, values) : msgid;
  }
  function say(text, error) {
    status.textContent = text;
    status.classList.toggle("error", !!error);
  }
  function noCamera(text) {
    root.dataset.camera = "off";
    say(text, true);
  }
  // The asset a scanned text names, or null.
  function assetOf(text) {
    text = String(text || "").trim();
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
      try {
        var m = new URL(text).pathname.match(/^\/(?:r|ui\/assets)\/([^/]+)\/?$/);
        return m ? decodeURIComponent(m[1]) : null;
      } catch (e) {
        return null;
      }
    }
    return ASSET_ID.test(text) ? text : null;
  }
  function stop() {
    stopped = true;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    if (worker) worker.terminate();
    stream = worker = null;
  }
  function open(assetId) {
    stopped = true; // no more decoding; the camera stops when the page goes (pagehide)
    say(T("Opening {asset}…", { asset: assetId }));
    root.dataset.found = assetId;
    location.assign("/ui/assets/" + encodeURIComponent(assetId));
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var typed = input.value.trim();
    if (typed) open(assetOf(typed) || typed);
  });

  function frame() {
    if (stopped) return;
    if (!decoding && !document.hidden && video.readyState >= 2 && video.videoWidth) {
      var scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
      var w = Math.round(video.videoWidth * scale);
      var h = Math.round(video.videoHeight * scale);
      canvas.width = w;
      canvas.height = h;
      ctx.drawImage(video, 0, 0, w, h);
      var img = ctx.getImageData(0, 0, w, h);
      decoding = true;
      worker.postMessage({ id: ++seq, type: "decode", data: img }, [img.data.buffer]);
    }
    setTimeout(frame, FRAME_MS);
  }

  var canvas = document.createElement("canvas");
  var ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.Worker) {
    noCamera(T("This browser cannot use the camera here. Type the asset id below."));
    return;
  }
  worker = new Worker(root.dataset.worker);
  worker.onmessage = function (ev) {
    decoding = false;
    var msg = ev.data || {};
    if (msg.type !== "qrResult" || !msg.data || stopped) return;
    var assetId = assetOf(msg.data);
    if (assetId) open(assetId);
    else say(T("That code is not an asset label: {text}", { text: String(msg.data).slice(0, 80) }), true);
  };
  navigator.mediaDevices.getUserMedia({
    video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
    audio: false,
  }).then(function (s) {
    if (stopped) {
      s.getTracks().forEach(function (t) { t.stop(); });
      return;
    }
    stream = s;
    video.srcObject = s;
    return video.play().then(function () {
      say(T("Point the camera at the asset's QR code."));
      root.dataset.camera = "on";
      frame();
    });
  }).catch(function (err) {
    var denied = err && (err.name === "NotAllowedError" || err.name === "SecurityError");
    noCamera(denied
      ? T("The camera is not allowed. Allow it in the browser's settings, or type the asset id below.")
      : T("No camera could be started. Type the asset id below."));
  });
  window.addEventListener("pagehide", stop);
})();
