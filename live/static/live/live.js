/* Live comments over a websocket (live.consumers). Without a connection the page stays as it was
 * rendered: the comments are readable, the form stays hidden (read-only). Text is only ever set
 * with textContent, so a comment can never become markup. */
(function () {
  "use strict";
  var root = document.querySelector("[data-live-socket]");
  if (!root || !window.WebSocket) { return; }
  var list = root.querySelector("[data-comments]");
  var form = root.querySelector("[data-comment-form]");
  var formMessage = root.querySelector("[data-form-message]");
  var status = root.querySelector("[data-connection]");
  var viewers = root.querySelector("[data-viewers]");
  var pinned = root.querySelector("[data-pinned]");
  var closedNote = root.querySelector("[data-closed-note]");
  var socket = null, moderator = false, pingTimer = null, retry = 1000, MAX_SHOWN = 200;
  /* The words it writes come from the page (data-t-* on the section, translated there), so they
     follow the page's language; the Chinese here is only a fallback. */
  function t(name, fallback, values) {
    var text = root.getAttribute("data-t-" + name) || fallback;
    Object.keys(values || {}).forEach(function (key) { text = text.split("%(" + key + ")s").join(values[key]); });
    return text;
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function moderationButtons(comment) {
    var box = el("span", "live-moderation");
    [[t("hide", "隐藏"), { type: "hide", id: comment.id }], [t("pin", "置顶"), { type: "pin", id: comment.id }],
     [t("mute", "禁言10分钟"), { type: "mute", id: comment.id, minutes: 10 }]].forEach(function (pair) {
      var button = el("button", "link-button", pair[0]);
      button.type = "button";
      button.setAttribute("aria-label", t("action-on", "%(action)s：%(author)s的评论", { action: pair[0], author: comment.author }));
      button.addEventListener("click", function () { send(pair[1]); });
      box.appendChild(button);
    });
    return box;
  }

  function render(comment) {
    var item = el("li");
    item.setAttribute("data-comment-id", comment.id);
    item.appendChild(el("span", "live-author", comment.author));
    item.appendChild(document.createTextNode(" "));
    item.appendChild(el("time", "", comment.at));
    item.appendChild(el("p", "", comment.body));
    if (moderator) { item.appendChild(moderationButtons(comment)); }
    return item;
  }

  function showAll(comments) {
    list.textContent = "";
    if (!comments.length) { list.appendChild(el("li", "muted", t("none", "还没有评论。"))); }
    comments.forEach(function (c) { list.appendChild(render(c)); });
    list.scrollTop = list.scrollHeight;
  }

  function add(comment) {
    var empty = list.querySelector(".muted");
    if (empty) { empty.remove(); }
    list.appendChild(render(comment));
    while (list.children.length > MAX_SHOWN) { list.removeChild(list.firstChild); }
    list.scrollTop = list.scrollHeight;
  }

  function showPinned(comment) {
    if (!pinned) { return; }
    pinned.hidden = !comment;
    if (comment) {
      pinned.querySelector("[data-pinned-author]").textContent = comment.author;
      pinned.querySelector("[data-pinned-body]").textContent = comment.body;
    }
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(frame)); }
  }

  function handle(frame) {
    switch (frame.type) {
      case "hello":
        moderator = frame.moderator;
        showAll(frame.comments);
        showPinned(frame.pinned);
        viewers.textContent = t("watching", "%(count)s 人在看", { count: frame.viewers });
        if (form) { form.hidden = !frame.open; }
        if (closedNote) { closedNote.hidden = frame.open; }
        status.textContent = frame.open ? t("connected", "实时评论已连接") : t("connected-closed", "实时评论已连接（当前不可发言）");
        break;
      case "comment": add(frame.comment); break;
      case "hidden":
        var gone = list.querySelector('[data-comment-id="' + frame.id + '"]');
        if (gone) { gone.remove(); }
        if (pinned && !pinned.hidden) { send({ type: "ping" }); }
        break;
      case "pinned": showPinned(frame.comment); break;
      case "viewers": viewers.textContent = t("watching", "%(count)s 人在看", { count: frame.count }); break;
      case "muted": formMessage.textContent = t("muted", "已禁言该用户"); break;
      case "error": if (formMessage) { formMessage.textContent = frame.message; } else { status.textContent = frame.message; } break;
    }
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.getAttribute("data-live-socket"));
    socket.addEventListener("open", function () {
      retry = 1000;
      pingTimer = setInterval(function () { send({ type: "ping" }); }, 25000);
    });
    socket.addEventListener("message", function (event) {
      try { handle(JSON.parse(event.data)); } catch (e) { /* a malformed frame changes nothing */ }
    });
    socket.addEventListener("close", function (event) {
      clearInterval(pingTimer);
      if (form) { form.hidden = true; }
      status.textContent = t("reconnecting", "实时评论已断开，当前为只读。正在重新连接…");
      if (event.code === 4404) { status.textContent = t("unavailable", "实时评论不可用，当前为只读。"); return; }
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    });
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var box = form.querySelector("textarea");
      var body = box.value.trim();
      if (!body) { formMessage.textContent = t("empty", "评论不能为空"); return; }
      formMessage.textContent = "";
      send({ type: "comment", body: body });
      box.value = "";
    });
  }
  connect();
})();
