// Map styling for dash-leaflet. Geometry arrives once; each tick's colours arrive in the
// page's paint stores ({colours: {featureId: "#rrggbb"}, hidden, radius, weights} per
// layer) and are applied here to the features that changed. They never go through a
// layer's `hideout`: dash-leaflet 1.1 removes and re-adds every feature of a GeoJSON layer
// whenever its hideout changes, which cost seconds a tick on a large city.
var paint = window.citybrainMap = window.citybrainMap || {paint: {}, sources: {}, layers: {}, painted: []};

// a switched-off layer stays on the map (see pages/map.py) but draws nothing
var HIDDEN = {stroke: false, fill: false};

function layerOf(context) {
  // live layers name themselves in their hideout (pages/map.py live_layer)
  return ((context && context.hideout) || {}).layer;
}

function paintOf(context) {
  return paint.paint[layerOf(context)] || {};
}

function colourOf(p, id, fallback) {
  // a layer's paint lists the features that differ from its most common colour, the base
  return (p.colours || {})[id] || p.base || fallback;
}

window.dashExtensions = Object.assign({}, window.dashExtensions, {
  cockpit: {
    basemapStyle: function (feature, context) {
      var h = (context && context.hideout) || {};
      return {color: h.line || "#2a4d78", weight: h.weight || 1, fill: !!h.fill,
              fillColor: h.fill || "#0b1a2e", fillOpacity: h.fillOpacity || 0.0,
              opacity: h.opacity || 0.9, dashArray: h.dash || null};
    },
    areaStyle: function (feature, context) {
      var p = paintOf(context);
      if (p.hidden) { return HIDDEN; }
      return {stroke: true, fill: true, color: "#5b86b8", weight: 0.8,
              fillColor: colourOf(p, feature.id, "#33475f"), fillOpacity: 0.32, opacity: 0.9};
    },
    roadStyle: function (feature, context) {
      var p = paintOf(context);
      if (p.hidden) { return HIDDEN; }
      var cls = feature.properties.road_class;
      var weight = cls === "expressway" ? 5 : (cls === "arterial" ? 3.5 : 2);
      return {stroke: true, color: colourOf(p, feature.id, "#4a5d75"), weight: weight, opacity: 0.95,
              lineCap: "round"};
    },
    waterStyle: function () {
      return {color: "#1d5f9e", weight: 9, opacity: 0.75, lineCap: "round", lineJoin: "round"};
    },
    pointCircle: function (feature, latlng, context) {
      // thousands of points: drawn together by one canvas above the areas (map_points.js)
      var points = window.citybrainPoints;
      return points.point(latlng, points.canvasOf(context.map, "citybrain-points", 450));
    },
    pointStyle: function (feature, context) {
      var p = paintOf(context);
      // nothing to paint when hidden; points have no outline
      if (p.hidden) { return Object.assign({radius: 0}, HIDDEN); }
      return {radius: p.radius || 5, stroke: false, fill: true,
              fillColor: colourOf(p, feature.id, "#7f96b2"), fillOpacity: 0.95};
    },
    heatBlob: function (feature, latlng, context) {
      // a heat field: wide, soft discs in each sensor's AQI colour add up where air is bad
      var points = window.citybrainPoints;
      return points.point(latlng, points.canvasOf(context.map, "citybrain-heat", 440, true),
                          {metres: 900});
    },
    heatStyle: function (feature, context) {
      var p = paintOf(context);
      if (p.hidden) { return HIDDEN; }
      return {stroke: false, fill: true, fillColor: colourOf(p, feature.id, "#7f96b2"),
              fillOpacity: (p.weights || {})[feature.id] || 0.15};
    },
    register: function (feature, layer, context) {
      // each drawn feature by layer and id, so a tick restyles only what changed
      var name = layerOf(context);
      if (!name) { return; }
      (paint.layers[name] = paint.layers[name] || {})[feature.id] = layer;
      layer._citybrainPaint = paint.paint[name];   // what its style was just drawn from
    },
    eventMarker: function (feature, latlng, context) {
      var p = feature.properties;
      var icons = {police_110: "警", fire_119: "火", medical_120: "医", hotline_12345: "民",
                   urban_mgmt: "城", traffic_accident: "交"};
      var colours = {1: "#4FC3F7", 2: "#F5C242", 3: "#FF8C42", 4: "#FF4D4F"};
      var colour = colours[p.severity] || "#4FC3F7";
      var html = '<div class="event-pin" style="border-color:' + colour + ';color:' + colour +
                 '">' + (icons[p.kind] || "事") + "</div>";
      return L.marker(latlng, {icon: L.divIcon({html: html, className: "event-pin-wrap",
                                                iconSize: [28, 28], iconAnchor: [14, 14]})});
    },
    eventCluster: function (feature, latlng, index, context) {
      var n = feature.properties.point_count;
      var size = n < 10 ? 30 : (n < 50 ? 38 : 46);
      var html = '<div class="event-cluster">' + n + "</div>";
      return L.marker(latlng, {icon: L.divIcon({html: html, className: "event-cluster-wrap",
                                                iconSize: [size, size]})});
    }
  }
});

// The clientside side of the paint stores: arguments are the paints of PAINTED, in order.
var PAINTED = ["areas", "roads", "cameras", "sensors", "facilities", "parking", "heat"];
var STYLE_OF = {areas: "areaStyle", roads: "roadStyle", heat: "heatStyle"};
// The big layers' urls (pages/map.py LATER) are handed out once the first colours are in,
// or after GEOMETRY_FALLBACK_MS without them (a failed first draw still shows the map).
var GEOMETRY_FALLBACK_MS = 8000;
var PAINTED_KEPT = 50;   // a map runs for weeks: keep the newest repaint times only

function releaseGeometry() {
  if (paint.released || !paint.geometry) { return; }
  paint.released = true;
  clearTimeout(paint.fallback);
  for (var id in paint.geometry) {
    window.dash_clientside.set_props(id, {url: paint.geometry[id]});
  }
}

window.dash_clientside = window.dash_clientside || {};
window.dash_clientside.citybrainMap = {
    fetchGeometry: function (urls) {
      // the layers' first state (shown or not) until their first colours come
      for (var i = 0; i < PAINTED.length; i++) {
        paint.paint[PAINTED[i]] = Object.assign({}, arguments[i + 1]);
        delete paint.sources[PAINTED[i]];
      }
      // into the browser's cache while the server computes the first colours
      paint.geometry = urls || {};
      paint.released = false;
      for (var id in paint.geometry) {
        fetch(paint.geometry[id]).then(function (r) { return r.arrayBuffer(); })
          .catch(function () { return null; });   // the layer's own request will say why
      }
      clearTimeout(paint.fallback);
      paint.fallback = setTimeout(releaseGeometry, GEOMETRY_FALLBACK_MS);
      return Object.keys(paint.geometry).length;
    },
    paint: function () {
      var styles = window.dashExtensions.cockpit, restyled = 0;
      for (var i = 0; i < PAINTED.length; i++) {
        var name = PAINTED[i], next = arguments[i];
        if (!next || next === paint.sources[name]) { continue; }   // this layer's paint is unchanged
        paint.sources[name] = next;
        var now = Object.assign({}, next, {colours: Object.assign({}, next.colours),
                                           weights: Object.assign({}, next.weights)});
        paint.paint[name] = now;
        var style = styles[STYLE_OF[name] || "pointStyle"], context = {hideout: {layer: name}};
        var layers = paint.layers[name] || {};
        for (var id in layers) {
          var layer = layers[id];
          if (!layer._map) { delete layers[id]; continue; }   // gone with a level switch
          // the paint this feature was last drawn with: one drawn after this paint came
          // is already right, one drawn before is restyled where its look changed
          var was = layer._citybrainPaint;
          if (!was || was.hidden !== now.hidden || was.radius !== now.radius || was.base !== now.base ||
              (was.colours || {})[id] !== now.colours[id] || (was.weights || {})[id] !== now.weights[id]) {
            layer.setStyle(style(layer.feature, context));
            restyled += 1;
          }
          layer._citybrainPaint = now;
        }
      }
      if (PAINTED.some(function (name) { return "base" in (paint.paint[name] || {}); })) {
        releaseGeometry();
      }
      if (restyled) {
        requestAnimationFrame(function () {
          paint.painted.push(performance.now());   // the frames that showed new colours,
          paint.painted.splice(0, paint.painted.length - PAINTED_KEPT);   // the newest few
        });
      }
      return restyled;
    }
};
