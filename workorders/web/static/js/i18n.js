// _("English text", {name: value}): the page language's translation (the catalog the server put
// in <script id="i18n-catalog">, {} for English), with {name} placeholders filled in.
(function () {
  "use strict";
  var catalog = {};
  var el = document.getElementById("i18n-catalog");
  try {
    catalog = JSON.parse(el ? el.textContent : "{}") || {};
  } catch (e) {
    catalog = {};
  }
  window._ = function (msgid, values) {
    var text = Object.prototype.hasOwnProperty.call(catalog, msgid) ? catalog[msgid] : msgid;
    if (!values) return text;
    return text.replace(/\{(\w+)\}/g, function (m, k) {
      return Object.prototype.hasOwnProperty.call(values, k) ? String(values[k]) : m;
    });
  };
})();
