/* A small HLS player of our own (no third-party code, no CDN).
 *
 * <video data-hls-src="…/index.m3u8"> plays:
 *   - natively where the browser plays HLS itself (Safari, iOS, many Android browsers);
 *   - elsewhere through Media Source Extensions, for HLS with fragmented-MP4 segments
 *     (#EXT-X-MAP init segment + .m4s/.mp4 media segments, the format our demo stream and
 *     current encoders write). A live playlist (no #EXT-X-ENDLIST) is re-read every target
 *     duration and new segments are appended as they appear.
 *   - .mp4 / .webm addresses play as ordinary video.
 * MPEG-TS segments would need transmuxing in the browser: for those the player says so and
 * links the stream for an external player.
 */
(function () {
  "use strict";

  function resolve(base, ref) { return new URL(ref, base).href; }

  function attr(line, name) {
    var match = new RegExp(name + '=("([^"]*)"|[^,]*)').exec(line);
    return match ? (match[2] !== undefined ? match[2] : match[1]) : null;
  }

  function parse(text, base) {
    var lines = text.split(/\r?\n/), out = { variants: [], segments: [], init: null, ended: false, target: 4, codecs: null };
    if (lines[0].trim() !== "#EXTM3U") { throw new Error("not an HLS playlist"); }
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i].trim();
      if (line.indexOf("#EXT-X-STREAM-INF") === 0) {
        var next = (lines[i + 1] || "").trim();
        out.variants.push({ url: resolve(base, next), codecs: attr(line, "CODECS"), bandwidth: +(attr(line, "BANDWIDTH") || 0) });
      } else if (line.indexOf("#EXT-X-MAP") === 0) {
        out.init = resolve(base, attr(line, "URI"));
      } else if (line.indexOf("#EXT-X-TARGETDURATION") === 0) {
        out.target = +line.split(":")[1] || 4;
      } else if (line.indexOf("#EXT-X-ENDLIST") === 0) {
        out.ended = true;
      } else if (line.indexOf("#EXTINF") === 0) {
        var uri = (lines[i + 1] || "").trim();
        if (uri && uri[0] !== "#") { out.segments.push(resolve(base, uri)); }
      }
    }
    return out;
  }

  function fetchText(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.text();
    });
  }

  function fetchBytes(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.arrayBuffer();
    });
  }

  /* Its messages come from the page (data-t-* on the player's note, translated there). */
  function say(video, name, fallback) {
    var el = video.parentNode.querySelector("[data-player-note]");
    return (el && el.getAttribute("data-t-" + name)) || fallback;
  }

  function note(video, text) {
    var el = video.parentNode.querySelector("[data-player-note]");
    if (el) { el.textContent = text; el.hidden = !text; }
  }

  function playWithMse(video, url) {
    var mediaSource = new MediaSource();
    var appended = {}, queue = [], buffer = null, busy = false, playlistUrl = url, codecs = null;

    function pump() {
      if (busy || !buffer || buffer.updating || !queue.length) { return; }
      busy = true;
      var next = queue.shift();
      fetchBytes(next).then(function (bytes) {
        buffer.appendBuffer(bytes);
      }).catch(function () { busy = false; note(video, say(video, "retrying", "部分视频片段加载失败，正在重试…")); queue.unshift(next); setTimeout(pump, 2000); });
    }

    function refresh() {
      return fetchText(playlistUrl).then(function (text) {
        var list = parse(text, playlistUrl);
        if (list.variants.length) {
          var pick = list.variants.sort(function (a, b) { return a.bandwidth - b.bandwidth; })[0];
          playlistUrl = pick.url; codecs = pick.codecs;
          return refresh();
        }
        if (!list.init) { throw new Error("ts"); }
        if (!buffer) {
          var type = 'video/mp4; codecs="' + (codecs || "avc1.42E01E,mp4a.40.2") + '"';
          if (!MediaSource.isTypeSupported(type)) { throw new Error("codec"); }
          buffer = mediaSource.addSourceBuffer(type);
          buffer.addEventListener("updateend", function () { busy = false; pump(); });
          queue.push(list.init);
        }
        list.segments.forEach(function (segment) {
          if (!appended[segment]) { appended[segment] = true; queue.push(segment); }
        });
        pump();
        if (!list.ended) { setTimeout(refresh, list.target * 1000); }
      });
    }

    mediaSource.addEventListener("sourceopen", function () {
      refresh().catch(function (error) {
        note(video, error.message === "ts" || error.message === "codec"
          ? say(video, "unplayable", "当前浏览器无法直接播放此直播流，请使用手机浏览器或支持 HLS 的播放器打开。")
          : say(video, "unavailable", "直播流暂时无法加载，请稍后刷新页面。"));
      });
    });
    video.src = URL.createObjectURL(mediaSource);
  }

  function start(video) {
    var url = new URL(video.getAttribute("data-hls-src"), location.href).href;
    if (!/\.m3u8(\?|$)/i.test(url)) { video.src = url; return; }
    if (video.canPlayType("application/vnd.apple.mpegurl")) { video.src = url; return; }
    if (window.MediaSource) { playWithMse(video, url); return; }
    note(video, say(video, "unsupported", "当前浏览器不支持网页直播播放，请更换浏览器。"));
  }

  document.querySelectorAll("video[data-hls-src]").forEach(start);
})();
