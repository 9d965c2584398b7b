// The search page: Pagefind's own UI, filled from ?q= so the header's search box lands here.
(function () {
  "use strict";
  var script = document.currentScript;
  var bundle = script.getAttribute("data-bundle");
  var loader = document.createElement("script");
  loader.src = bundle + "pagefind-ui.js";
  loader.onload = function () {
    var ui = new PagefindUI({ element: "#search", bundlePath: bundle, showSubResults: true, showImages: false });
    var query = new URLSearchParams(location.search).get("q");
    if (query) { ui.triggerSearch(query); }
  };
  loader.onerror = function () { document.getElementById("search-missing").hidden = false; };
  document.head.appendChild(loader);
})();
