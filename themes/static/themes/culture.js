/* The shared theme's behaviour: 关怀模式 toggle, the home page banner, copy buttons.
   Everything works without this file; it only adds to the page. */
(function () {
  "use strict";
  var CARE_KEY = "culture-care-mode";
  var root = document.documentElement;
  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");

  function announce(text) {
    var live = document.getElementById("theme-announcer");
    if (live) { live.textContent = ""; window.setTimeout(function () { live.textContent = text; }, 50); }
  }

  /* 关怀模式: one visible toggle, remembered in this browser. */
  Array.prototype.forEach.call(document.querySelectorAll("[data-care-toggle]"), function (toggle) {
    toggle.setAttribute("aria-pressed", root.classList.contains("care") ? "true" : "false");
    toggle.addEventListener("click", function (event) {
      event.preventDefault();
      var on = !root.classList.contains("care");
      root.classList.toggle("care", on);
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      try { window.localStorage.setItem(CARE_KEY, on ? "1" : "0"); } catch (e) { /* not remembered */ }
      // The words come from the page (data-announce-on/off), in its language.
      announce(toggle.getAttribute(on ? "data-announce-on" : "data-announce-off") || (on ? "已开启关怀模式" : "已关闭关怀模式"));
      document.dispatchEvent(new CustomEvent("culture:care", { detail: on }));
    });
  });

  /* Copy buttons (e.g. a venue's address): the text stays selectable for those without them. */
  Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (button) {
    if (!navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.getAttribute("data-copy")).then(
        function () { announce((button.getAttribute("data-copied") || "已复制：") + button.getAttribute("data-copy")); },
        function () { announce(button.getAttribute("data-copy-failed") || "复制失败，请长按地址文字手动复制"); }
      );
    });
  });

  /* The home page banner: a scroll-snap strip people swipe; this adds previous/next, a pause
     button and turning pages every few seconds, never with reduced motion or in 关怀模式. */
  Array.prototype.forEach.call(document.querySelectorAll("[data-banner]"), function (banner) {
    var track = banner.querySelector(".banner-track");
    var slides = banner.querySelectorAll(".banner-slide");
    var controls = banner.querySelector(".banner-controls");
    if (!track || slides.length < 2 || !controls) { return; }
    controls.hidden = false;
    var pause = banner.querySelector("[data-banner-pause]");
    var current = 0;
    var timer = null;
    var paused = false;
    var hovering = false;

    function motionAllowed() {
      return !(reducedMotion && reducedMotion.matches) && !root.classList.contains("care");
    }
    function show(index, focus) {
      current = (index + slides.length) % slides.length;
      track.scrollTo({ left: slides[current].offsetLeft - track.offsetLeft, behavior: motionAllowed() ? "smooth" : "auto" });
      if (focus) { announce((current + 1) + " / " + slides.length + "：" + slides[current].getAttribute("data-title")); }
    }
    function stop() { if (timer) { window.clearInterval(timer); timer = null; } }
    function start() {
      stop();
      if (!paused && !hovering && motionAllowed()) { timer = window.setInterval(function () { show(current + 1); }, 6000); }
    }
    function setPaused(value) {
      paused = value;
      pause.setAttribute("aria-pressed", paused ? "true" : "false");
      pause.textContent = paused ? pause.getAttribute("data-play-label") : pause.getAttribute("data-pause-label");
      start();
    }
    banner.querySelector("[data-banner-prev]").addEventListener("click", function () { show(current - 1, true); });
    banner.querySelector("[data-banner-next]").addEventListener("click", function () { show(current + 1, true); });
    pause.addEventListener("click", function () { setPaused(!paused); });
    banner.addEventListener("mouseenter", function () { hovering = true; stop(); });
    banner.addEventListener("mouseleave", function () { hovering = false; start(); });
    banner.addEventListener("focusin", function () { hovering = true; stop(); });
    banner.addEventListener("focusout", function () { hovering = false; start(); });
    track.addEventListener("scroll", function () {
      var width = track.clientWidth || 1;
      current = Math.round(track.scrollLeft / width) % slides.length;
    }, { passive: true });
    if (reducedMotion && reducedMotion.addEventListener) { reducedMotion.addEventListener("change", start); }
    document.addEventListener("culture:care", start);
    if (!motionAllowed()) { setPaused(true); } else { setPaused(false); }
  });
}());
