// When the server restarts or the network drops, say so on the screen and keep trying,
// with backoff, until the server answers again; then the screen resumes by itself.
// Failed callback requests are what we watch: a wall must never need a human reload.
(function () {
  var state = {down: false, delay: 1000, timer: null};
  // read by assets/ticker.js: requests sent before the last change will never answer
  var connection = window.citybrainConnection = {down: false, changedAt: 0};
  function changed(down) { connection.down = down; connection.changedAt = Date.now(); }
  function overlay(show) {
    var el = document.getElementById("reconnect-overlay");
    if (!el && show) {
      el = document.createElement("div");
      el.id = "reconnect-overlay";
      el.className = "reconnect-overlay";
      el.textContent = location.search.indexOf("lang=en") >= 0 ? "Reconnecting…" : "正在重新连接…";
      document.body.appendChild(el);
    }
    if (el) { el.style.display = show ? "flex" : "none"; }
  }
  function probe() {
    originalFetch("/health", {cache: "no-store"}).then(function (r) {
      if (r.ok) { recovered(); } else { retry(); }
    }).catch(retry);
  }
  function retry() {
    clearTimeout(state.timer);
    state.timer = setTimeout(probe, state.delay);
    state.delay = Math.min(state.delay * 2, 30000);
  }
  function lost() {
    if (state.down) { return; }
    state.down = true;
    changed(true);
    state.delay = 1000;
    overlay(true);
    retry();
  }
  function recovered() {
    state.down = false;
    changed(false);
    clearTimeout(state.timer);
    overlay(false);
  }
  var originalFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    var url = typeof input === "string" ? input : (input && input.url) || "";
    var watched = url.indexOf("_dash-update-component") >= 0;
    return originalFetch(input, init).then(function (response) {
      if (watched) { if (response.status >= 502 || response.status === 0) { lost(); } else if (state.down) { recovered(); } }
      return response;
    }, function (error) {
      if (watched) { lost(); }
      throw error;
    });
  };
})();
