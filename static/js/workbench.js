// Staff workbench: a response template fills the public note only when asked to, with the
// "Einfügen" button or Enter on the list; choosing with the arrow keys changes nothing
// (WCAG 3.2.2). Without script the button asks the server, which fills the note.
document.querySelectorAll("select[data-fill-note]").forEach((select) => {
  const note = document.getElementById(select.dataset.fillNote);
  const status = document.getElementById("status");
  const apply = (event) => {
    const option = select.selectedOptions[0];
    if (!option || !option.value || !note) return;
    event.preventDefault();
    note.value = option.dataset.text;
    if (status && option.dataset.status) status.value = option.dataset.status;
    note.focus();
  };
  select.form.addEventListener("submit", apply);
  select.addEventListener("keydown", (event) => {
    if (event.key === "Enter") apply(event);
  });
});

// The inbox map: one marker per report of the selection, each linking to its page.
document.querySelectorAll("[data-map-points]").forEach((el) => {
  if (typeof L === "undefined") return;
  const config = JSON.parse(el.dataset.map);
  const points = JSON.parse(el.dataset.mapPoints);
  el.hidden = false;
  const map = L.map(el, { zoomControl: false }).setView(config.center, config.zoom);
  L.control.zoom({ zoomInTitle: config.zoom_in, zoomOutTitle: config.zoom_out }).addTo(map);
  L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: 19 }).addTo(map);
  const markers = points.map((p) =>
    L.marker([p.lat, p.lon], { title: p.label, alt: p.label, keyboard: true })
      .on("click", () => { window.location.href = p.url; })
      .addTo(map)
  );
  if (markers.length) map.fitBounds(L.featureGroup(markers).getBounds().pad(0.1));
});
