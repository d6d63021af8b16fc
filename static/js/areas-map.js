// Zuständigkeitsgebiete on a map: each area outlined and named; a click opens its page.
// The table (or list) of areas on the same page is the way without a map.
document.querySelectorAll("[data-areas]").forEach((el) => {
  if (typeof L === "undefined") return;
  const config = JSON.parse(el.dataset.map);
  const areas = JSON.parse(el.dataset.areas);
  el.hidden = false;
  const map = L.map(el, { zoomControl: false }).setView(config.center, config.zoom);
  L.control.zoom({ zoomInTitle: config.zoom_in, zoomOutTitle: config.zoom_out }).addTo(map);
  L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: 19 }).addTo(map);
  const palette = ["#0b5394", "#8a3b00", "#2e7d32", "#6a1b9a", "#b00020", "#00695c"];
  const layers = areas.map((area, index) =>
    L.geoJSON(area.geojson, {
      style: { color: palette[index % palette.length], weight: 2, fillOpacity: 0.15 },
    })
      .bindTooltip(area.name, { sticky: true })
      .on("click", () => { if (area.url) window.location.href = area.url; })
      .addTo(map)
  );
  if (layers.length) map.fitBounds(L.featureGroup(layers).getBounds().pad(0.05));
});
