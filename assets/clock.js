// The top bar's clock, in the city's time zone, ticking in the browser once a second.
(function () {
  function tick() {
    var box = document.querySelector(".clock");
    if (!box) { return; }
    var tz = box.getAttribute("data-tz") || "Asia/Shanghai";
    var lang = box.getAttribute("data-lang") === "en" ? "en-GB" : "zh-CN";
    var now = new Date();
    var time = new Intl.DateTimeFormat("en-GB", {timeZone: tz, hour: "2-digit", minute: "2-digit",
      second: "2-digit", hour12: false}).format(now);
    var date = new Intl.DateTimeFormat(lang, {timeZone: tz, year: "numeric", month: "2-digit",
      day: "2-digit", weekday: "short"}).format(now);
    var t = document.getElementById("shell-clock-time");
    var d = document.getElementById("shell-clock-date");
    if (t && t.textContent !== time) { t.textContent = time; }
    if (d && d.textContent !== date) { d.textContent = date; }
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
})();
