// The booking form asks the server for the price whenever day, time, group or options change.
(function () {
  "use strict";
  const box = document.getElementById("price");
  if (!box) return;
  const form = box.closest("form");
  let timer = null;
  function update() {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (["day", "start", "end", "customer_group", "youth", "cleaning"].includes(name)) {
        params.append(name, value);
      }
    }
    fetch(box.dataset.priceUrl + "?" + params.toString(), { headers: { Accept: "application/json" } })
      .then((response) => response.json())
      .then((data) => {
        if (data.html) box.innerHTML = data.html;
      })
      .catch(() => {});
  }
  form.addEventListener("change", () => {
    clearTimeout(timer);
    timer = setTimeout(update, 150);
  });
})();
