// Wall playlist: show one page at a time for its dwell time, with a short cross-fade.
// Every page keeps running (clock, live data) while hidden. Keys: space pauses / resumes,
// right arrow or "n" goes to the next page, left arrow or "p" to the previous one.
(function () {
  var state = {index: 0, paused: false, timer: null};
  function items() { return Array.from(document.querySelectorAll("#player .player-item")); }
  function show(k) {
    var all = items();
    if (!all.length) { return; }
    state.index = (k + all.length) % all.length;
    all.forEach(function (el, n) { el.classList.toggle("active", n === state.index); });
    var player = document.getElementById("player");
    player.setAttribute("data-current", state.index);
    window.__playerHistory = (window.__playerHistory || []).concat([[state.index, performance.now()]]);
    schedule();
  }
  function schedule() {
    clearTimeout(state.timer);
    var all = items();
    if (state.paused || !all.length) { return; }
    var dwell = Number(all[state.index].getAttribute("data-dwell")) || 60;
    state.timer = setTimeout(function () { show(state.index + 1); }, dwell * 1000);
  }
  function pause(on) {
    state.paused = on;
    var badge = document.getElementById("player-paused");
    if (badge) { badge.style.display = on ? "block" : "none"; }
    var player = document.getElementById("player");
    if (player) { player.setAttribute("data-paused", on ? "1" : "0"); }
    schedule();
  }
  function onKey(e) {
    if (!document.getElementById("player")) { return; }
    if (e.key === " ") { pause(!state.paused); e.preventDefault(); }
    else if (e.key === "ArrowRight" || e.key === "n") { show(state.index + 1); }
    else if (e.key === "ArrowLeft" || e.key === "p") { show(state.index - 1); }
  }
  document.addEventListener("keydown", onKey);
  // The keys work wherever the focus is: a click into a page moves it into that frame.
  function listenInFrames() {
    items().forEach(function (frame) {
      try {
        var doc = frame.contentDocument;
        if (doc && !doc.__playerKeys) { doc.__playerKeys = true; doc.addEventListener("keydown", onKey); }
      } catch (err) { /* a page from another origin keeps its own keys */ }
    });
  }
  var started = false;
  setInterval(function () {   // the player appears after Dash renders the page
    if (!started && document.getElementById("player")) { started = true; show(0); }
    if (started && !document.getElementById("player")) { started = false; clearTimeout(state.timer); }
    if (started) { listenInFrames(); }
  }, 200);
})();
