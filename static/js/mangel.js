// Mängelmelder maps and the address combobox. Progressive enhancement only: every form
// works without this file (addresses and coordinates can always be typed).
(function () {
  "use strict";

  function data(el, name) {
    return JSON.parse(el.getAttribute(name));
  }

  function baseMap(el) {
    var config = data(el, "data-map");
    var bounds = L.latLngBounds(config.bounds);
    el.hidden = false;
    var map = L.map(el, { maxBounds: bounds.pad(0.5) });
    L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: 19 }).addTo(map);
    map.setView(config.center, config.zoom);
    return { map: map, bounds: bounds, config: config };
  }

  function round(value) {
    return Math.round(value * 1e6) / 1e6;
  }

  // --- step 2: the pin -----------------------------------------------------------------
  function initPicker(wrapper) {
    var el = wrapper.querySelector("[data-map]");
    var latInput = document.getElementById("lat");
    var lonInput = document.getElementById("lon");
    var address = document.getElementById("address");
    var status = wrapper.querySelector("[data-map-status]");
    wrapper.hidden = false;
    var base = baseMap(el);
    var map = base.map;
    var start = L.latLng(base.config.center);
    var typed = parseFloat((latInput.value || "").replace(",", "."));
    var typedLon = parseFloat((lonInput.value || "").replace(",", "."));
    if (!isNaN(typed) && !isNaN(typedLon)) {
      start = L.latLng(typed, typedLon);
      map.setView(start, 17);
    }
    var marker = L.marker(start, { draggable: true, keyboard: true, title: el.getAttribute("aria-label") }).addTo(map);
    // The untouched start pin fills no field; "pin" tells the server it was never moved,
    // so that it can say so — a point that was placed or typed counts wherever it is.
    var pin = document.getElementById("pin");
    if (pin && !pin.value) { pin.value = "start"; }

    function place(latlng, fromMap) {
      marker.setLatLng(latlng);
      if (pin) { pin.value = "placed"; }
      if (fromMap) {
        latInput.value = round(latlng.lat);
        lonInput.value = round(latlng.lng);
        if (address) { address.value = ""; }
        status.textContent = status.getAttribute("data-msg-moved");
      }
    }
    marker.on("dragend", function () { place(marker.getLatLng(), true); });
    map.on("click", function (event) { place(event.latlng, true); });

    function fromFields() {
      var lat = parseFloat(latInput.value.replace(",", "."));
      var lon = parseFloat(lonInput.value.replace(",", "."));
      if (!isNaN(lat) && !isNaN(lon)) {
        place(L.latLng(lat, lon), false);
        map.panTo([lat, lon]);
      }
    }
    latInput.addEventListener("change", fromFields);
    lonInput.addEventListener("change", fromFields);
    document.addEventListener("mangel:address", function (event) {
      latInput.value = event.detail.lat;
      lonInput.value = event.detail.lon;
      place(L.latLng(event.detail.lat, event.detail.lon), false);
      map.setView([event.detail.lat, event.detail.lon], 18);
    });

    var locate = wrapper.querySelector("[data-locate]");
    if (!navigator.geolocation) {
      locate.hidden = true;
    }
    locate.addEventListener("click", function () {
      status.textContent = status.getAttribute("data-msg-locating");
      navigator.geolocation.getCurrentPosition(
        function (position) {
          var here = L.latLng(position.coords.latitude, position.coords.longitude);
          map.setView(here, 18);
          place(here, true);
        },
        function () { status.textContent = status.getAttribute("data-msg-denied"); },
        { enableHighAccuracy: true, timeout: 10000 }
      );
    });
  }

  // --- the address combobox (WAI-ARIA 1.2 combobox with listbox popup) ------------------
  function initCombobox(box) {
    var input = box.querySelector("input");
    var list = box.querySelector("[role=listbox]");
    var status = box.querySelector("[data-combobox-status]");
    var results = [];
    var active = -1;
    var timer = null;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function highlight(index) {
      var items = list.querySelectorAll("[role=option]");
      items.forEach(function (item, i) { item.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (items[index]) {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({ block: "nearest" });
      }
    }
    function choose(index) {
      var hit = results[index];
      if (!hit) { return; }
      input.value = hit.label;
      close();
      document.dispatchEvent(new CustomEvent("mangel:address", { detail: hit }));
    }
    function show(items) {
      results = items;
      list.textContent = "";
      items.forEach(function (hit, i) {
        var li = document.createElement("li");
        li.id = "address-option-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = hit.label;
        li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      list.hidden = items.length === 0;
      input.setAttribute("aria-expanded", items.length ? "true" : "false");
      status.textContent = items.length
        ? box.getAttribute("data-msg-results") + " " + items.length
        : box.getAttribute("data-msg-none");
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var query = input.value.trim();
      var lat = document.getElementById("lat");
      var lon = document.getElementById("lon");
      // Typing an address replaces the pin: the address decides unless a suggestion is chosen.
      if (lat && lon) { lat.value = ""; lon.value = ""; }
      if (query.length < 2) { close(); return; }
      timer = setTimeout(function () {
        fetch(box.getAttribute("data-source") + "?q=" + encodeURIComponent(query), {
          headers: { Accept: "application/json" }
        })
          .then(function (response) { return response.ok ? response.json() : []; })
          .then(show)
          .catch(close);
      }, 250);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) { return; }
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(Math.min(active + 1, results.length - 1)); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); choose(active); }
      else if (event.key === "Escape") { close(); }
    });
    input.addEventListener("blur", close);
  }

  // --- overview: pins or clusters from the GeoJSON endpoint ------------------------------
  function initOverview(el) {
    var base = baseMap(el);
    var map = base.map;
    var layer = L.layerGroup().addTo(map);
    var source = el.getAttribute("data-source");
    var reportUrl = el.getAttribute("data-report-url").replace(/0$/, "");
    var pending = null;

    function draw(collection) {
      layer.clearLayers();
      collection.features.forEach(function (feature) {
        var c = feature.geometry.coordinates;
        var p = feature.properties;
        if (p.cluster) {
          var size = p.count < 10 ? 32 : p.count < 100 ? 40 : 48;
          var span = document.createElement("span");
          span.textContent = p.count;
          L.marker([c[1], c[0]], {
            icon: L.divIcon({ className: "mangel-cluster", html: span.outerHTML, iconSize: [size, size] }),
            title: p.count + " " + el.getAttribute("data-msg-cluster"),
            keyboard: true
          }).on("click", function () { map.setView([c[1], c[0]], map.getZoom() + 2); }).addTo(layer);
        } else {
          var link = document.createElement("a");
          link.href = reportUrl + p.id;
          link.textContent = el.getAttribute("data-msg-report") + " " + p.id;
          L.marker([c[1], c[0]], { title: link.textContent, keyboard: true }).bindPopup(link).addTo(layer);
        }
      });
    }
    function load() {
      if (pending) { pending.abort(); }
      pending = new AbortController();
      var sep = source.indexOf("?") === -1 ? "?" : "&";
      fetch(source + sep + "bbox=" + map.getBounds().toBBoxString(), { signal: pending.signal })
        .then(function (response) { return response.json(); })
        .then(draw)
        .catch(function () { /* a newer request replaced this one, or the list below serves */ });
    }
    map.on("moveend", load);
    load();
  }

  // --- a report's place -------------------------------------------------------------------
  function initPoint(el) {
    var base = baseMap(el);
    var point = data(el, "data-map-point");
    base.map.setView(point, 17);
    L.marker(point, { keyboard: false }).addTo(base.map);
  }

  var box = document.querySelector("[data-combobox]");
  if (box) { initCombobox(box); }
  if (!window.L) { return; }
  var picker = document.querySelector("[data-map-picker]");
  if (picker) { initPicker(picker); }
  var overview = document.querySelector("[data-map-overview]");
  if (overview) { initOverview(overview); }
  document.querySelectorAll("[data-map-point]").forEach(initPoint);
})();
