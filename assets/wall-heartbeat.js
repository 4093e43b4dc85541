// Each open wall reports a small heartbeat to the server every 15 s: its page, layout, how
// long ago it last rendered, and its JS heap where the browser tells. /health lists them.
(function () {
  var lastRender = performance.now();
  var observed = null;
  function wallId() {
    var id = sessionStorage.getItem("citybrain-wall-id");
    if (!id) {
      id = "wall-" + Math.random().toString(36).slice(2, 10);
      sessionStorage.setItem("citybrain-wall-id", id);
    }
    return id;
  }
  function watch() {
    var stage = document.getElementById("wall-stage");
    if (stage && stage !== observed) {
      observed = stage;
      new MutationObserver(function () { lastRender = performance.now(); })
        .observe(stage, {childList: true, subtree: true, characterData: true});
    }
    return stage;
  }
  function beat() {
    var stage = watch();
    if (!stage) { return; }
    var memory = performance.memory ? performance.memory.usedJSHeapSize : null;
    fetch("/wall/heartbeat", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({wall_id: wallId(), page: location.pathname + location.search,
        layout: stage.getAttribute("data-layout") || "", js_heap_bytes: memory,
        last_render_ms_ago: Math.round(performance.now() - lastRender)})}).catch(function () {});
  }
  setInterval(watch, 1000);
  setTimeout(beat, 2000);
  setInterval(beat, 15000);
})();
