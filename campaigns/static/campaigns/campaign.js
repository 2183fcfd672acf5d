/* Campaign page: votes sent with fetch (the forms work without script too) and the tally kept
 * live over a websocket (campaigns.consumers). Numbers are set with textContent only. */
(function () {
  "use strict";
  var root = document.querySelector("[data-campaign-socket]");
  if (!root) { return; }
  var message = root.querySelector("[data-vote-message]");
  var left = root.querySelector("[data-votes-left] strong");
  var table = document.querySelector("[data-tally-table] tbody");

  function applyTally(rows) {
    rows.forEach(function (row) {
      var card = root.querySelector('[data-entry="' + row.id + '"] [data-entry-votes]');
      if (card) { card.textContent = row.public; }
      if (table) {
        var tr = table.querySelector('[data-row-entry="' + row.id + '"]');
        if (tr) {
          ["public", "expert", "score"].forEach(function (name) {
            var cell = tr.querySelector('[data-cell="' + name + '"]');
            if (cell) { cell.textContent = name === "score" ? row.score.toFixed(2) : row[name]; }
          });
          table.appendChild(tr); // rows arrive ranked: re-append in that order
          tr.firstElementChild.textContent = table.children.length;
        }
      }
    });
    if (table) { Array.prototype.forEach.call(table.children, function (tr, i) { tr.firstElementChild.textContent = i + 1; }); }
  }

  root.querySelectorAll("[data-vote-form]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button");
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "Accept": "application/json" },
        credentials: "same-origin"
      }).then(function (response) {
        return response.json();
      }).then(function (answer) {
        message.textContent = answer.message;
        if (answer.ok && left) { left.textContent = answer.left; }
      }).catch(function () {
        message.textContent = root.getAttribute("data-t-offline") || "网络异常，投票未完成，请稍后再试";
      }).then(function () { button.disabled = false; });
    });
  });

  if (!window.WebSocket || root.getAttribute("data-tally-mode") !== "live") { return; }
  var retry = 1000;
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + root.getAttribute("data-campaign-socket"));
    socket.addEventListener("open", function () { retry = 1000; });
    socket.addEventListener("message", function (event) {
      try {
        var frame = JSON.parse(event.data);
        if (frame.type === "tally") { applyTally(frame.rows); }
      } catch (e) { /* ignore a malformed frame */ }
    });
    socket.addEventListener("close", function (event) {
      if (event.code === 4404) { return; }
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    });
  }
  connect();
})();
