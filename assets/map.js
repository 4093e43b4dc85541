// Map styling functions for dash-leaflet: geometry arrives once, colours come through
// the layers' `hideout` ({colours: {featureId: "#rrggbb"}, ...}) on every tick.
window.dashExtensions = Object.assign({}, window.dashExtensions, {
  cockpit: {
    basemapStyle: function (feature, context) {
      var h = (context && context.hideout) || {};
      return {color: h.line || "#2a4d78", weight: h.weight || 1, fill: !!h.fill,
              fillColor: h.fill || "#0b1a2e", fillOpacity: h.fillOpacity || 0.0,
              opacity: h.opacity || 0.9, dashArray: h.dash || null};
    },
    areaStyle: function (feature, context) {
      var h = (context && context.hideout) || {};
      if (h.hidden) { return {opacity: 0, fillOpacity: 0}; }
      var colour = (h.colours || {})[feature.id] || "#33475f";
      var selected = h.selected === feature.id;
      return {color: selected ? "#ffffff" : "#5b86b8", weight: selected ? 3 : 0.8,
              fillColor: colour, fillOpacity: 0.32, opacity: 0.9};
    },
    roadStyle: function (feature, context) {
      var h = (context && context.hideout) || {};
      if (h.hidden) { return {opacity: 0}; }
      var colour = (h.colours || {})[feature.id] || "#4a5d75";
      var cls = feature.properties.road_class;
      var weight = cls === "expressway" ? 5 : (cls === "arterial" ? 3.5 : 2);
      return {color: colour, weight: weight, opacity: 0.95, lineCap: "round"};
    },
    waterStyle: function () {
      return {color: "#1d5f9e", weight: 9, opacity: 0.75, lineCap: "round", lineJoin: "round"};
    },
    pointCircle: function (feature, latlng) {
      // thousands of point features: one shared canvas draws them far faster than SVG;
      // their colours come from pointStyle, so a tick restyles instead of recreating
      window.__cockpitCanvas = window.__cockpitCanvas || L.canvas({padding: 0.3});
      window.__cockpitPoints = (window.__cockpitPoints || 0) + 1;
      return L.circleMarker(latlng, {renderer: window.__cockpitCanvas, radius: 0});
    },
    pointStyle: function (feature, context) {
      var h = (context && context.hideout) || {};
      if (h.hidden) { return {radius: 0, opacity: 0, fillOpacity: 0}; }
      var colour = (h.colours || {})[feature.id] || h.colour || "#7f96b2";
      return {radius: h.radius || 5, color: "#0b1a2e", weight: 1, opacity: 1,
              fillColor: colour, fillOpacity: 0.95};
    },
    heatBlob: function (feature, latlng, context) {
      // a heat field: wide, soft discs in each sensor's AQI colour add up where air is bad
      // (120 discs: recreated on each change, which keeps them in step with the hideout)
      window.__cockpitHeat = window.__cockpitHeat || L.canvas({padding: 0.3});
      var h = (context && context.hideout) || {};
      var colour = (h.colours || {})[feature.id] || "#7f96b2";
      var weight = (h.weights || {})[feature.id] || 0.15;
      return L.circle(latlng, {radius: h.hidden ? 1 : (h.radius || 900), stroke: false,
                               fillColor: colour, fillOpacity: h.hidden ? 0 : weight,
                               interactive: false, renderer: window.__cockpitHeat});
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
