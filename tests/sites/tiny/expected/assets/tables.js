// Tables marked data-table-tools: a box above that filters their rows, and column headers
// that sort them. Without this script the table reads in full, in its own order.
(function () {
  "use strict";
  // The page's words, in its language, from the script's element; {shown} and {rows} filled here.
  var script = document.currentScript;
  var FILTER = (script && script.getAttribute("data-filter")) || "Show only rows with";
  var COUNT = (script && script.getAttribute("data-count")) || "{shown} of {rows} rows shown";
  var made = 0;
  Array.prototype.forEach.call(document.querySelectorAll("table[data-table-tools]"), setUp);

  function setUp(table) {
    var body = table.tBodies[0];
    var head = table.tHead && table.tHead.rows[0];
    if (!body || !head) { return; }
    var rows = Array.prototype.slice.call(body.rows);
    made += 1;

    var tools = document.createElement("div");
    tools.className = "table-tools";
    var label = document.createElement("label");
    label.htmlFor = "table-filter-" + made;
    label.textContent = FILTER;
    var input = document.createElement("input");
    input.type = "search";
    input.id = label.htmlFor;
    input.autocomplete = "off";
    var status = document.createElement("p");
    status.className = "table-count";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    tools.appendChild(label);
    tools.appendChild(input);
    tools.appendChild(status);
    var box = table.closest(".table-scroll") || table;
    box.parentNode.insertBefore(tools, box);

    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var text = row.textContent.toLowerCase();
        var keep = words.every(function (w) { return text.indexOf(w) >= 0; });
        row.hidden = !keep;
        if (keep) { shown += 1; }
      });
      status.textContent = words.length
        ? COUNT.replace("{shown}", String(shown)).replace("{rows}", String(rows.length)) : "";
    });

    Array.prototype.forEach.call(head.cells, function (cell, column) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (cell.firstChild) { button.appendChild(cell.firstChild); }
      cell.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = cell.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(head.cells, function (c) { c.removeAttribute("aria-sort"); });
        cell.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var sorted = rows.slice().sort(function (a, b) {
          var order = compare(a.cells[column], b.cells[column]);
          return ascending ? order : -order;
        });
        sorted.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  // Numbers by their value ("1,500 USD" after "150 USD"), words as a reader orders them.
  function compare(a, b) {
    var x = a ? a.textContent.trim() : "";
    var y = b ? b.textContent.trim() : "";
    var m = number(x), n = number(y);
    if (m !== null && n !== null && m !== n) { return m - n; }
    return x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
  }

  function number(text) {
    var found = /^[^\d-]{0,12}(-?[\d,]*\.?\d+)/.exec(text);
    return found ? parseFloat(found[1].replace(/,/g, "")) : null;
  }
})();
