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

// Redaction: drag rectangles over the photo with mouse, pen or finger. Each is shown as a
// black box; the form sends them in pixels of the stored photo ("x,y,w,h;…"). Without
// script, or from the keyboard, the number fields below do the same for one rectangle.
document.querySelectorAll("form[data-redact]").forEach((form) => {
  const stage = form.querySelector("[data-redact-stage]");
  const img = stage && stage.querySelector("img");
  const field = form.querySelector("[data-redact-rects]");
  const count = form.querySelector("[data-redact-count]");
  const undo = form.querySelector("[data-redact-undo]");
  if (!img || !field || !window.PointerEvent) return;
  stage.hidden = false;
  form.querySelector("[data-redact-hint]").hidden = false;
  form.querySelector("[data-redact-tools]").hidden = false;
  count.hidden = false;
  // Rectangles sent before, when the form came back with an error, are drawn again.
  const rects = field.value
    .split(";")
    .map((part) => part.split(",").map(Number))
    .filter((r) => r.length === 4 && r.every(Number.isFinite));
  const natural = () => [Number(img.getAttribute("width")), Number(img.getAttribute("height"))];
  const scale = () => natural()[0] / img.getBoundingClientRect().width;
  const render = () => {
    stage.querySelectorAll(".redact__box").forEach((box) => box.remove());
    const s = scale();
    if (!Number.isFinite(s)) return; // folded away: drawn when opened
    rects.forEach((r) => {
      const box = document.createElement("div");
      box.className = "redact__box";
      Object.assign(box.style, {
        left: `${r[0] / s}px`, top: `${r[1] / s}px`, width: `${r[2] / s}px`, height: `${r[3] / s}px`,
      });
      stage.appendChild(box);
    });
    field.value = rects.map((r) => r.map(Math.round).join(",")).join(";");
    count.textContent = rects.length === 1
      ? count.dataset.one
      : count.dataset.many.replace("{n}", rects.length);
    undo.disabled = rects.length === 0;
  };
  let start = null;
  let live = null;
  const point = (event) => {
    const box = img.getBoundingClientRect();
    const [w, h] = natural();
    const s = scale();
    return [
      Math.min(Math.max((event.clientX - box.left) * s, 0), w),
      Math.min(Math.max((event.clientY - box.top) * s, 0), h),
    ];
  };
  stage.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    stage.setPointerCapture(event.pointerId);
    start = point(event);
    live = [start[0], start[1], 0, 0];
    rects.push(live);
  });
  stage.addEventListener("pointermove", (event) => {
    if (!start) return;
    const [x, y] = point(event);
    live.splice(0, 4, Math.min(x, start[0]), Math.min(y, start[1]), Math.abs(x - start[0]), Math.abs(y - start[1]));
    render();
  });
  const finish = () => {
    if (!start) return;
    if (live[2] < 3 || live[3] < 3) rects.pop(); // a tap, not a rectangle
    start = live = null;
    render();
  };
  stage.addEventListener("pointerup", finish);
  stage.addEventListener("pointercancel", finish);
  undo.addEventListener("click", () => { rects.pop(); render(); });
  window.addEventListener("resize", render);
  form.closest("details")?.addEventListener("toggle", render);
  img.addEventListener("load", render);
  render();
});
