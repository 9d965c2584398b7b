// factbook serve: the browser side of the livereload protocol, plus an overlay for build errors.
(function () {
  "use strict";
  var overlay = null;
  var retry = 250;

  function showProblems(problems) {
    if (!problems.length) {
      if (overlay) { overlay.remove(); overlay = null; }
      return;
    }
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.id = "factbook-overlay";
      overlay.setAttribute("role", "alertdialog");
      overlay.setAttribute("aria-label", "Build failed");
      overlay.style.cssText = "position:fixed;inset:0;z-index:2147483647;overflow:auto;" +
        "background:rgba(20,20,24,.94);color:#fff;font:14px/1.5 ui-monospace,monospace;padding:2rem";
      document.body.appendChild(overlay);
    }
    overlay.textContent = "";
    var title = document.createElement("h2");
    title.textContent = "factbook: the last save did not build (the page below is the last good one)";
    title.style.cssText = "font:600 18px system-ui,sans-serif;color:#ff9b9b;margin:0 0 1rem";
    overlay.appendChild(title);
    var list = document.createElement("pre");
    list.className = "factbook-problems";
    list.style.cssText = "white-space:pre-wrap;margin:0";
    list.textContent = problems.join("\n");
    overlay.appendChild(list);
  }

  function reloadStyles(path) {
    var links = document.querySelectorAll('link[rel="stylesheet"]');
    var stamp = Date.now();
    for (var i = 0; i < links.length; i++) {
      var href = links[i].getAttribute("href").split("?")[0];
      if (path === "*" || href.slice(-path.length) === path) {
        links[i].setAttribute("href", href + "?factbook=" + stamp);
      }
    }
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/livereload");
    socket.onopen = function () {
      retry = 250;
      socket.send(JSON.stringify({ command: "hello", protocols: ["http://livereload.com/protocols/official-7"] }));
      socket.send(JSON.stringify({ command: "info", url: location.href, plugins: {} }));
    };
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.command === "reload") {
        if (message.liveCSS && /\.css$/.test(message.path)) { reloadStyles(message.path); }
        else { location.reload(); }
      } else if (message.command === "factbook-problems") {
        window.factbookLive = true; // the server answered this page's hello: reloads will come
        showProblems(message.problems);
      }
    };
    socket.onclose = function () {
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 4000);
    };
  }
  connect();
})();
