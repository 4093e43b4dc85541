// Freshness badges that age in the browser (components/panels.py live_badge): once a
// second each badge shows how old its data is and is flagged stale once older than its
// limit — also when the server or the network is gone and nobody else can say so.
// Ages are taken on the server's clock (the stage's data-server-now at page load).
(function () {
  var skew = {source: null, ms: 0};
  function serverSkew() {
    var el = document.querySelector("[data-server-now]");
    if (el && el !== skew.source) {
      skew.source = el;
      skew.ms = Number(el.getAttribute("data-server-now")) - Date.now();
    }
    return el ? skew.ms : 0;
  }
  function text(badge, seconds) {
    var minutes = seconds >= 120;
    var template = badge.getAttribute(minutes ? "data-ago-m" : "data-ago-s") || "{n}";
    return "· " + template.replace("{n}", String(minutes ? Math.floor(seconds / 60) : seconds));
  }
  function tick() {
    var badges = document.querySelectorAll(".live-badge[data-as-of]");
    if (!badges.length) { return; }
    var now = Date.now() + serverSkew();
    badges.forEach(function (badge) {
      var age = Math.max(0, now - Number(badge.getAttribute("data-as-of")));
      var old = age > Number(badge.getAttribute("data-max-age"));
      var label = badge.querySelector(".badge-age");
      var shown = text(badge, Math.floor(age / 1000));
      if (label && label.textContent !== shown) { label.textContent = shown; }
      if (old !== badge.hasAttribute("data-old")) {
        if (old) { badge.setAttribute("data-old", "1"); } else { badge.removeAttribute("data-old"); }
      }
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    // a badge a tick has just re-rendered shows its age in the same frame, not a second on
    var queued = false;
    new MutationObserver(function () {
      if (queued) { return; }
      queued = true;
      requestAnimationFrame(function () { queued = false; tick(); });
    }).observe(document.body, {childList: true, subtree: true});
  });
})();
