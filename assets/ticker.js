// The gate of a page's live tick (components/ticker.py): a tick starts the page's server
// callback only when the previous beat has been answered, so one screen never has two
// requests in flight and a slow server is not asked again before it has finished.
(function () {
  var stats = window.citybrainTicks = window.citybrainTicks || {};
  var ns = window.dash_clientside = window.dash_clientside || {};
  ns.citybrainTick = {
    gate: function (n, ack, beat, plan) {
      var skip = window.dash_clientside.no_update;
      var mine = stats[plan.name] = stats[plan.name] || {fired: 0, held: 0, forced: 0};
      // the first tick came at this page's random phase; from now on, its own period
      var interval = n === 1 ? plan.period_ms : skip;
      var now = Date.now();
      if (beat && (ack || 0) < beat.n) {
        // a beat without a time is the page's first draw, asked for as the page loaded
        var sent = beat.at || Math.round(performance.timeOrigin);
        // a beat sent before the connection was lost or came back will never be answered
        var conn = window.citybrainConnection ? window.citybrainConnection.changedAt : 0;
        if (conn < sent && now - sent < plan.stuck_ms) {
          mine.held += 1;
          return [skip, interval];
        }
        mine.forced += 1;
      }
      mine.fired += 1;
      return [{n: (beat ? beat.n : 0) + 1, at: now}, interval];
    }
  };
})();
