/* Lesson player: reports the stretches of video actually played to the server every 10 s.
 * The server decides what counts (it clips each stretch to the time that really passed), so this
 * script only says honestly what was played: a seek ends the current stretch and starts a new one. */
(function () {
  "use strict";
  var video = document.getElementById("lesson-video");
  var configNode = document.getElementById("player-config");
  if (!video || !configNode) return;
  var config = JSON.parse(configNode.textContent);
  var bar = document.getElementById("lesson-progress");
  var status = document.getElementById("lesson-status");
  var seq = 0;
  var stretchStart = null; // position where the current uninterrupted playback began
  var lastPosition = 0;
  var stopped = false;
  var pending = [];
  var text = config.text || {};
  function watched(percent) {
    var template = text.watched || "已观看 %(percent)s%%";
    return template.replace("%(percent)s", percent).replace("%%", "%");
  }

  if (video.dataset.hls === "1" && !video.canPlayType("application/vnd.apple.mpegurl")) {
    status.textContent = text.noHls || "此浏览器不支持直接播放 HLS 视频，请使用手机浏览器或 Safari 打开。";
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function show(answer) {
    if (typeof answer.percent === "number") {
      bar.value = answer.percent;
      bar.textContent = answer.percent + "%";
      status.textContent = watched(answer.percent) + (answer.completed ? (text.completed || "，本课时已完成") : "") +
        (answer.message ? "（" + answer.message + "）" : "");
    } else if (answer.message) {
      status.textContent = answer.message;
    }
    if (answer.status === "stale_session") stopped = true;
  }

  function send(start, end) {
    if (stopped) return;
    seq += 1;
    var body = JSON.stringify({ session: config.session, seq: seq, start: start, end: end });
    var request = fetch(config.progressUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: body,
      keepalive: true
    }).then(function (response) { return response.json(); }).then(show).catch(function () {
      status.textContent = text.offline || "进度暂未保存（网络问题），稍后会继续记录。";
    });
    pending.push(request);
  }

  function flush() {
    // Report the stretch played since the last report, and start the next one here.
    if (stretchStart === null) return;
    var here = video.currentTime;
    if (here > stretchStart) send(stretchStart, here);
    stretchStart = video.paused ? null : here;
  }

  video.addEventListener("playing", function () { stretchStart = video.currentTime; lastPosition = video.currentTime; });
  video.addEventListener("timeupdate", function () {
    var here = video.currentTime;
    // A jump (a seek that completed before its "seeking" event) ends the stretch where playback was.
    if (stretchStart !== null && Math.abs(here - lastPosition) > 2) {
      if (lastPosition > stretchStart) send(stretchStart, lastPosition);
      stretchStart = video.paused ? null : here;
    }
    if (!video.seeking) lastPosition = here;
  });
  video.addEventListener("pause", function () {
    if (stretchStart !== null && lastPosition > stretchStart) send(stretchStart, lastPosition);
    stretchStart = null;
  });
  video.addEventListener("seeking", function () {
    // What was played before the jump is reported; the jump itself is not playback.
    if (stretchStart !== null && lastPosition > stretchStart) send(stretchStart, lastPosition);
    stretchStart = null;
  });
  video.addEventListener("seeked", function () { lastPosition = video.currentTime; if (!video.paused) stretchStart = video.currentTime; });
  video.addEventListener("ended", function () {
    if (stretchStart !== null && video.duration > stretchStart) send(stretchStart, video.duration);
    stretchStart = null;
  });
  window.setInterval(flush, (config.interval || 10) * 1000);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") flush(); });
})();
