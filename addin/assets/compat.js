/*
 * elksxl add-in: runs first, in plain ES5, and tells the user when Excel shows add-ins in a
 * browser engine too old for the pane (Internet Explorer 11, used by some perpetual Office
 * 2016/2019 installs on Windows). The other scripts use modern JavaScript and would fail to
 * load there without a word.
 */
(function () {
  "use strict";
  // Feature tests, not syntax tests: the server's CSP forbids eval. Engines with fetch,
  // Symbol and Object.assign (Chromium, WebKit, Edge 15+) also run async functions.
  var modern =
    typeof window.fetch === "function" &&
    typeof window.Symbol === "function" &&
    typeof Object.assign === "function";
  window.elksxlCompatible = modern;
  if (modern) return;
  function show() {
    var box = document.getElementById("status");
    if (!box) return;
    box.textContent = "This Excel shows add-ins with an old browser engine (Internet Explorer). " +
      "The SMS pane needs Microsoft 365, Excel 2021 or later, or Excel on the web.";
    box.hidden = false;
    box.removeAttribute("hidden");
    var app = document.getElementById("app");
    var sections = app ? app.getElementsByTagName("section") : [];
    for (var i = 0; i < sections.length; i++) sections[i].style.display = "none";
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", show);
  else show();
})();
