// The search page: Pagefind's results for the query in the header's search box, which is the
// page's one search field (filled from ?q=, searching as one types).
(function () {
  "use strict";
  var script = document.currentScript;
  var bundle = script.getAttribute("data-bundle");
  var box = document.getElementById("site-search-q");
  var query = new URLSearchParams(location.search).get("q") || "";
  if (box) { box.value = query; }
  var loader = document.createElement("script");
  loader.src = bundle + "pagefind-ui.js";
  loader.onload = function () {
    var ui = new PagefindUI({ element: "#search", bundlePath: bundle, showSubResults: true, showImages: false });
    document.getElementById("search").classList.add("search-driven");
    function search(text) {
      ui.triggerSearch(text);
      var url = new URL(location.href);
      if (text) { url.searchParams.set("q", text); } else { url.searchParams.delete("q"); }
      history.replaceState(null, "", url);
    }
    if (query) { ui.triggerSearch(query); }
    if (box) {
      box.addEventListener("input", function () { search(box.value); });
      box.form.addEventListener("submit", function (event) { event.preventDefault(); search(box.value); });
    }
  };
  loader.onerror = function () { document.getElementById("search-missing").hidden = false; };
  document.head.appendChild(loader);
})();
