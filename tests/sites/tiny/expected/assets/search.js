// The search page: Pagefind's results for the query in the header's search box, which is the
// page's one search field (filled from ?q=, searching as one types). Results are drawn here from
// Pagefind's own API, all of a batch at once, so that nothing on the page moves while they load.
(function () {
  "use strict";
  var script = document.currentScript;
  var bundle = script.getAttribute("data-bundle");
  // The page's words, in its language, from the script's element: {n} and {query} are filled here.
  function said(name, fallback) { return script.getAttribute("data-" + name) || fallback; }
  function fill(text, n, query) {
    return text.replace("{n}", String(n)).replace("{query}", function () { return query; });
  }
  var NONE = said("none", "No page matches \u201c{query}\u201d.");
  var ONE = said("one", "{n} page matches \u201c{query}\u201d.");
  var MANY = said("many", "{n} pages match \u201c{query}\u201d.");
  var labels = JSON.parse(said("filters", "{}"));
  var box = document.getElementById("site-search-q");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var more = document.getElementById("search-more");
  var filterBox = document.getElementById("search-filters");
  var selects = [];
  var query = new URLSearchParams(location.search).get("q") || "";
  var BATCH = 10;
  var found = [];
  var shown = 0;
  var asked = 0;
  if (box) { box.value = query; }

  function item(data) {
    var li = document.createElement("li");
    var link = document.createElement("a");
    link.href = data.url;
    link.textContent = (data.meta && data.meta.title) || data.url;
    var heading = document.createElement("h2");
    heading.appendChild(link);
    li.appendChild(heading);
    var excerpt = document.createElement("p");
    excerpt.className = "excerpt";
    excerpt.innerHTML = data.excerpt; // Pagefind's excerpt: the page's text, escaped, with <mark>
    li.appendChild(excerpt);
    return li;
  }

  function showMore() {
    var batch = found.slice(shown, shown + BATCH);
    var ask = asked;
    return Promise.all(batch.map(function (r) { return r.data(); })).then(function (data) {
      if (ask !== asked) { return; } // a newer search has begun
      data.forEach(function (d) { list.appendChild(item(d)); });
      shown += batch.length;
      more.hidden = shown >= found.length;
    });
  }

  function run(pagefind, text) {
    var ask = ++asked;
    var filters = {};
    selects.forEach(function (select) { if (select.value) { filters[select.name] = select.value; } });
    var url = new URL(location.href);
    if (text) { url.searchParams.set("q", text); } else { url.searchParams.delete("q"); }
    history.replaceState(null, "", url);
    if (!text.trim()) {
      list.replaceChildren();
      status.textContent = "";
      more.hidden = true;
      return;
    }
    pagefind.debouncedSearch(text, { filters: filters }, 150).then(function (search) {
      if (search === null || ask !== asked) { return; }
      found = search.results;
      shown = 0;
      list.replaceChildren();
      var n = found.length;
      status.textContent = fill(n === 0 ? NONE : n === 1 ? ONE : MANY, n, text);
      return showMore();
    });
  }

  import(bundle + "pagefind.js").then(function (pagefind) {
    pagefind.options({ excerptLength: 24 });
    // One list per filter the pages declare (data-pagefind-filter): their type, their topics, ...
    pagefind.filters().then(function (all) {
      Object.keys(all).sort().forEach(function (name, i) {
        var label = document.createElement("label");
        var select = document.createElement("select");
        select.name = name;
        select.id = "search-filter-" + i;
        label.htmlFor = select.id;
        label.textContent = (labels[name] || name.charAt(0).toUpperCase() + name.slice(1)) + " ";
        var any = document.createElement("option");
        any.value = "";
        any.textContent = said("any", "any");
        select.appendChild(any);
        Object.keys(all[name]).sort().forEach(function (value) {
          var option = document.createElement("option");
          option.value = value;
          option.textContent = value + " (" + all[name][value] + ")";
          select.appendChild(option);
        });
        select.addEventListener("change", function () { run(pagefind, box.value); });
        selects.push(select);
        var part = document.createElement("span");
        part.appendChild(label);
        part.appendChild(select);
        filterBox.appendChild(part);
      });
      filterBox.hidden = selects.length === 0;
    });
    more.addEventListener("click", function () { showMore(); });
    if (box) {
      box.addEventListener("input", function () { run(pagefind, box.value); });
      box.form.addEventListener("submit", function (event) { event.preventDefault(); run(pagefind, box.value); });
    }
    run(pagefind, query);
  }, function () {
    document.getElementById("search-missing").hidden = false;
  });
})();
