// Staff workbench: choosing a response template fills the public note at once (the
// "Einfügen" button does the same without script, through the server).
document.querySelectorAll("select[data-fill-note]").forEach((select) => {
  const note = document.getElementById(select.dataset.fillNote);
  const status = document.getElementById("status");
  select.addEventListener("change", () => {
    const option = select.selectedOptions[0];
    if (!option || !option.value || !note) return;
    note.value = option.dataset.text;
    if (status && option.dataset.status) status.value = option.dataset.status;
    note.focus();
  });
});

// The inbox map: one marker per report of the selection, each linking to its page.
document.querySelectorAll("[data-map-points]").forEach((el) => {
  if (typeof L === "undefined") return;
  const config = JSON.parse(el.dataset.map);
  const points = JSON.parse(el.dataset.mapPoints);
  el.hidden = false;
  const map = L.map(el).setView(config.center, config.zoom);
  L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: 19 }).addTo(map);
  const markers = points.map((p) =>
    L.marker([p.lat, p.lon], { title: p.label, keyboard: true })
      .on("click", () => { window.location.href = p.url; })
      .addTo(map)
  );
  if (markers.length) map.fitBounds(L.featureGroup(markers).getBounds().pad(0.1));
});
