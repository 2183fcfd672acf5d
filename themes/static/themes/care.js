/* 关怀模式 (elder-friendly mode), applied before the page is drawn: read from the address
   (?care=1 / ?care=0, the link that works without JavaScript) or remembered in this browser. */
(function () {
  var KEY = "culture-care-mode";
  var root = document.documentElement;
  var asked = /[?&]care=([01])(&|$)/.exec(window.location.search);
  try {
    if (asked) { window.localStorage.setItem(KEY, asked[1]); }
    if (window.localStorage.getItem(KEY) === "1") { root.classList.add("care"); }
    else if (asked && asked[1] === "0") { root.classList.remove("care"); }
  } catch (e) { /* storage refused (private mode): the address alone decides */ }
}());
