// Dash records every change of a callback input (each tick of a dcc.Interval) in its
// undo/redo history, without limit: on a screen that ticks for weeks that is a slow leak,
// and each new entry copies the whole list. Nobody undoes a wall: keep the newest few.
(function () {
  var KEEP = 20;
  function trim() {
    var store = window.store;
    var history = store && store.getState && store.getState().history;
    if (history && history.past && history.past.length > KEEP) {
      history.past.splice(0, history.past.length - KEEP);
    }
  }
  setInterval(trim, 10000);
})();
