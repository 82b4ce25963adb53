// Refresh the open-work-order list every 15 s while the tablet is online and idle.
(function () {
  var last = Date.now();
  document.addEventListener("pointerdown", function () { last = Date.now(); });
  setInterval(function () {
    if (navigator.onLine && Date.now() - last > 10000 && !document.hidden) {
      location.replace(location.pathname);
    }
  }, 15000);
})();
