// Video wall: scale the stage, designed at its layout's resolution, by one factor to fit the
// screen, centred (letterboxed when the aspect differs). Never stretched, never scrolled.
(function () {
  function fit() {
    var stage = document.getElementById("wall-stage");
    if (!stage) { return; }
    var w = Number(stage.getAttribute("data-width"));
    var h = Number(stage.getAttribute("data-height"));
    var s = Math.min(window.innerWidth / w, window.innerHeight / h);
    var x = (window.innerWidth - w * s) / 2;
    var y = (window.innerHeight - h * s) / 2;
    var t = "translate(" + x + "px," + y + "px) scale(" + s + ")";
    if (stage.style.transform !== t) { stage.style.transform = t; }
    stage.setAttribute("data-scale", s.toFixed(4));
  }
  window.addEventListener("resize", fit);
  setInterval(fit, 500);   // the stage appears after the page renders, and screens change
  document.addEventListener("DOMContentLoaded", fit);
})();
