// A canvas that draws tens of thousands of map points in one pass.
//
// Leaflet draws a circle marker as a layer of its own: projected, bounded, hooked into
// its renderer one by one, which on a city of 20,000 street lights, cameras and sensors
// was most of the map's first draw. Here each point is a small layer that only keeps its
// position and style; the canvas it joins draws them all on the next frame, grouped by
// colour, and again whenever the map moves or a style changes.
//
//   var cloud = window.citybrainPoints.canvasOf(map, "citybrain-points", 450);
//   var point = window.citybrainPoints.point(latlng, cloud);   // in a GeoJSON pointToLayer
(function () {
  var EARTH_CIRCUMFERENCE_M = 40075016.686;
  var Cloud = null, Point = null;

  function classes() {
    if (Cloud) { return; }
    Cloud = L.Canvas.extend({
      initialize: function (options) {
        L.Canvas.prototype.initialize.call(this, options);
        this._points = new Set();
        this._projectedAt = null;
      },
      add: function (point) { this._points.add(point); this.soon(); },
      remove: function (point) { this._points.delete(point); this.soon(); },
      soon: function () {
        // one redraw a frame, however many points changed
        if (this._map && !this._redrawRequest) {
          this._redrawBounds = null;
          this._redrawRequest = L.Util.requestAnimFrame(this._redraw, this);
        }
      },
      _draw: function () {
        var map = this._map, ctx = this._ctx;
        if (!map || !ctx) { return; }
        var zoom = map.getZoom(), origin = map.getPixelOrigin();
        if (this._projectedAt !== zoom) {   // positions in pixels at this zoom, once per zoom
          this._points.forEach(function (p) { p._pixel = map.project(p._latlng, zoom); });
          this._projectedAt = zoom;
        }
        var metresPerPixel = EARTH_CIRCUMFERENCE_M * Math.cos(map.getCenter().lat * Math.PI / 180) /
                             Math.pow(2, zoom + 8);
        var batches = {};
        this._points.forEach(function (p) {
          var s = p.options;
          if (!s.fill) { return; }
          var radius = p._metres ? p._metres / metresPerPixel : s.radius;
          if (!(radius > 0)) { return; }
          if (!p._pixel) { p._pixel = map.project(p._latlng, zoom); }
          var key = s.fillColor + "|" + s.fillOpacity;
          (batches[key] = batches[key] || []).push(p._pixel.x - origin.x, p._pixel.y - origin.y, radius);
        });
        ctx.save();
        for (var key in batches) {
          var style = key.split("|"), xyr = batches[key];
          ctx.fillStyle = style[0];
          ctx.globalAlpha = style[1] === "undefined" ? 1 : Number(style[1]);
          ctx.beginPath();
          for (var i = 0; i < xyr.length; i += 3) {
            ctx.moveTo(xyr[i] + xyr[i + 2], xyr[i + 1]);
            ctx.arc(xyr[i], xyr[i + 1], xyr[i + 2], 0, 2 * Math.PI);
            if (this.options.additive) { ctx.fill(); ctx.beginPath(); }   // overlaps add up
          }
          ctx.fill();
        }
        ctx.restore();
      }
    });
    Point = L.Layer.extend({
      initialize: function (latlng, cloud, options) {
        this._latlng = L.latLng(latlng);
        this._cloud = cloud;
        this._metres = (options || {}).metres;
        this.options = {};
      },
      onAdd: function () { this._cloud.add(this); },
      onRemove: function () { this._cloud.remove(this); },
      setStyle: function (style) { this.options = style || {}; this._cloud.soon(); return this; },
      getLatLng: function () { return this._latlng; }
    });
  }

  window.citybrainPoints = {
    // the cloud drawn in ``pane`` of ``map`` (made on first use); the pane lets clicks
    // through to the areas beneath, since points answer none
    // (``additive``: overlapping discs of one colour add up, as a heat field's should)
    canvasOf: function (map, pane, zIndex, additive) {
      classes();
      var mine = map._citybrainClouds = map._citybrainClouds || {};
      if (!mine[pane]) {
        var element = map.getPane(pane) || map.createPane(pane);
        element.style.zIndex = zIndex;
        element.style.pointerEvents = "none";
        mine[pane] = new Cloud({padding: 0.3, pane: pane, additive: !!additive}).addTo(map);
      }
      return mine[pane];
    },
    // a point of ``cloud``; ``options.metres`` gives it a size on the ground, not on screen
    point: function (latlng, cloud, options) {
      classes();
      return new Point(latlng, cloud, options);
    }
  };
})();
