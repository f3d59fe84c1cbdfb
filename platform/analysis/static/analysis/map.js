/* 案件地图: clustered markers coloured by warning + a heat layer, the same filters as the
   page; tiles only when configured (MAP_TILE_URLS), else a plain background with region labels. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("an-map-config").textContent);
  var query = window.location.search.replace(/^\?/, "").split("&").filter(function (p) { return p && p.indexOf("screen=") !== 0; }).join("&");
  var map = L.map("an-map", {preferCanvas: true}).setView([cfg.center[1], cfg.center[0]], cfg.zoom);
  cfg.tiles.forEach(function (url) { L.tileLayer(url, {attribution: cfg.attribution, maxZoom: 18}).addTo(map); });
  var cluster = L.markerClusterGroup({chunkedLoading: true});
  var heat = L.heatLayer([], {radius: 30, blur: 20, maxZoom: 14});
  var labels = L.layerGroup();
  function esc(v) { return String(v).replace(/[&<>"']/g, function (c) { return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]; }); }
  fetch(cfg.points + "?" + query, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (data) {
    var info = document.getElementById("an-map-info");
    if (data.error) { info.textContent = data.error; return; }
    info.textContent = "本期案件 " + data.total + " 件，地图显示最新 " + data.shown + " 件（上限 " + data.limit + "）";
    var bounds = [];
    data.markers.forEach(function (m) {
      var marker = L.circleMarker([m.lat, m.lng], {radius: 7, weight: 1, color: "#333", fillOpacity: 0.85,
                                                   fillColor: m.color || "#2f6fdf"});
      marker.bindPopup("<b>" + esc(m.no) + "</b><br>" + esc(m.title) + "<br>" + esc(m.type) + (m.warning ? "<br>预警：" + esc(m.warning) : "") +
                       "<br><a href='/analysis/cases/" + m.id + "/archive/'>一件事档案</a>");
      cluster.addLayer(marker);
      bounds.push([m.lat, m.lng]);
    });
    var max = 1;
    data.heat.forEach(function (h) { max = Math.max(max, h[2]); });
    heat.setOptions({max: max});
    heat.setLatLngs(data.heat);
    data.labels.forEach(function (l) {
      labels.addLayer(L.marker([l.lat, l.lng], {icon: L.divIcon({className: "an-region-label", html: esc(l.name), iconSize: null})})
        .on("click", function () { window.location.href = cfg.cases + "?" + query.replace(/(^|&)region=[^&]*/, "") + "&region=" + l.id; }));
    });
    cluster.addTo(map); heat.addTo(map); labels.addTo(map);
    if (bounds.length) { map.fitBounds(bounds, {maxZoom: 15, padding: [20, 20]}); }
    else if (data.labels.length) { map.fitBounds(data.labels.map(function (l) { return [l.lat, l.lng]; }), {maxZoom: 14}); }
  });
  document.getElementById("an-layer-markers").addEventListener("change", function () { this.checked ? cluster.addTo(map) : map.removeLayer(cluster); });
  document.getElementById("an-layer-heat").addEventListener("change", function () { this.checked ? heat.addTo(map) : map.removeLayer(heat); });
})();
