// Mängelmelder maps and the address combobox. Progressive enhancement only: every form
// works without this file (addresses and coordinates can always be typed).
(function () {
  "use strict";

  function data(el, name) {
    return JSON.parse(el.getAttribute(name));
  }

  // Leaflet's own zoom buttons say "Zoom in" on every page: ours speak the page's language.
  function baseMap(el, options) {
    var config = data(el, "data-map");
    var bounds = L.latLngBounds(config.bounds);
    el.hidden = false;
    var map = L.map(el, L.extend({ maxBounds: bounds.pad(0.5), zoomControl: false }, options));
    L.control.zoom({ zoomInTitle: config.zoom_in, zoomOutTitle: config.zoom_out }).addTo(map);
    L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: 19 }).addTo(map);
    map.setView(config.center, config.zoom);
    return { map: map, bounds: bounds, config: config };
  }

  // A coordinate as the page's language writes numbers: "50,744828" is read out in German.
  function spoken(value) {
    return Number(value).toLocaleString(document.documentElement.lang, { maximumFractionDigits: 6 });
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
    var base = baseMap(el, { keyboard: false });
    var map = base.map;
    el.tabIndex = 0;
    var start = L.latLng(base.config.center);
    var typed = parseFloat((latInput.value || "").replace(",", "."));
    var typedLon = parseFloat((lonInput.value || "").replace(",", "."));
    if (!isNaN(typed) && !isNaN(typedLon)) {
      start = L.latLng(typed, typedLon);
      map.setView(start, 17);
    }
    // The pin is dragged by finger or mouse and moved by the arrow keys on the focused map;
    // as a tab stop of its own it would do nothing.
    var marker = L.marker(start, { draggable: true, keyboard: false, alt: "" }).addTo(map);
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
        status.textContent = status.getAttribute("data-msg-moved") + " " +
          status.getAttribute("data-msg-position")
            .replace("%(lat)s", spoken(latInput.value)).replace("%(lon)s", spoken(lonInput.value));
      }
    }

    // Arrow keys move the pin a few screen pixels (Shift: further), + and - zoom; the
    // status region says where the pin now stands.
    var steps = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };
    el.addEventListener("keydown", function (event) {
      if (event.target !== el || event.altKey || event.ctrlKey || event.metaKey) { return; }
      var step = steps[event.key];
      if (step) {
        event.preventDefault();
        var distance = event.shiftKey ? 50 : 10;
        var zoom = map.getZoom();
        var point = map.project(marker.getLatLng(), zoom).add(L.point(step[0] * distance, step[1] * distance));
        var latlng = map.unproject(point, zoom);
        place(latlng, true);
        if (!map.getBounds().pad(-0.1).contains(latlng)) { map.panTo(latlng); }
      } else if (event.key === "+" || event.key === "=") {
        event.preventDefault();
        map.zoomIn();
      } else if (event.key === "-") {
        event.preventDefault();
        map.zoomOut();
      }
    });
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
      status.textContent = box.getAttribute("data-msg-chosen") + " " + hit.label;
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
    function search(query) {
      fetch(box.getAttribute("data-source") + "?q=" + encodeURIComponent(query), {
        headers: { Accept: "application/json" }
      })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(show)
        .catch(close);
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var query = input.value.trim();
      var lat = document.getElementById("lat");
      var lon = document.getElementById("lon");
      // Typing an address replaces the pin: the address decides unless a suggestion is chosen.
      if (lat && lon) { lat.value = ""; lon.value = ""; }
      if (query.length < 2) { close(); return; }
      timer = setTimeout(function () { search(query); }, 250);
    });
    input.addEventListener("keydown", function (event) {
      // ArrowDown on a closed box opens the suggestions for what is typed (APG combobox).
      if (list.hidden && event.key === "ArrowDown" && input.value.trim().length >= 2) {
        event.preventDefault();
        search(input.value.trim());
        return;
      }
      if (list.hidden) { return; }
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(Math.min(active + 1, results.length - 1)); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); choose(active); }
      else if (event.key === "Escape") { close(); }
    });
    input.addEventListener("blur", close);
  }

  // --- overview: pins or clusters from the GeoJSON endpoint ------------------------------
  // Markers whose icons would touch on screen are drawn as one group, so no marker covers
  // another (target size). A pan redraws only what changed: a marker that has the focus
  // stays, and focusing a marker never moves the map (Tab walks the markers, then leaves).
  var GAP = 2; // px between two targets at least

  function clusterSize(count) {
    return count < 10 ? 32 : count < 100 ? 40 : 48;
  }

  var PIN = 28; // px: a status symbol, centred on its point

  // The icon's box on screen: pins and groups are centred on their point.
  function iconBox(at, pin, count) {
    var half = (pin ? PIN : clusterSize(count)) / 2;
    return { l: at.x - half, r: at.x + half, t: at.y - half, b: at.y + half };
  }

  function touch(a, b) {
    return a.l < b.r + GAP && b.l < a.r + GAP && a.t < b.b + GAP && b.t < a.b + GAP;
  }

  // The map asks for its view widened to whole cells of the cluster grid the server picks
  // for it (mangel/mapdata.py, map_view: the same steps and numbers), so phones looking at
  // nearly the same place ask for the same URL, which a proxy or the server answers again.
  var GRID = { base: 0.0005, levels: 17, across: 13, slack: 1e-9 };

  function widenedBox(bounds) {
    var cell, rows, cols;
    for (var level = 0; level < GRID.levels; level++) {
      cell = GRID.base * Math.pow(2, level);
      rows = [Math.floor(bounds.getSouth() / cell + GRID.slack), Math.ceil(bounds.getNorth() / cell - GRID.slack)];
      cols = [Math.floor(bounds.getWest() / cell + GRID.slack), Math.ceil(bounds.getEast() / cell - GRID.slack)];
      var shrink = Math.cos((rows[0] + rows[1]) * cell / 2 * (Math.PI / 180));
      if (Math.max(rows[1] - rows[0], (cols[1] - cols[0]) * shrink) <= GRID.across) { break; }
    }
    return [
      Math.max(-180, cols[0] * cell), Math.max(-90, rows[0] * cell),
      Math.min(180, cols[1] * cell), Math.min(90, rows[1] * cell)
    ].map(function (edge) { return edge.toFixed(4); }).join(",");
  }

  function initOverview(el) {
    var base = baseMap(el);
    var map = base.map;
    var layer = L.layerGroup().addTo(map);
    var source = el.getAttribute("data-source");
    var reportUrl = el.getAttribute("data-report-url").replace(/0$/, "");
    var names = data(el, "data-names");
    var shown = {};
    var pending = null;

    function reportName(p) {
      return names.report.replace("%(id)s", p.id)
        .replace("%(category)s", names.categories[p.category] || "")
        .replace("%(status)s", names.statuses[p.status] || p.status);
    }

    // Greedy, in a fixed order, in pixels of the current zoom: the same while panning.
    function group(features) {
      var zoom = map.getZoom();
      var groups = [];
      features.slice().sort(function (a, b) {
        return (a.properties.id || 0) - (b.properties.id || 0) ||
          a.geometry.coordinates[0] - b.geometry.coordinates[0];
      }).forEach(function (feature) {
        var c = feature.geometry.coordinates;
        var at = map.project([c[1], c[0]], zoom);
        var count = feature.properties.count || 1;
        var box = iconBox(at, !feature.properties.cluster, count);
        var near = groups.find(function (g) { return touch(g.box, box); });
        if (near) {
          near.members.push(feature);
          near.count += count;
          near.box = iconBox(near.at, false, near.count);
        } else {
          groups.push({ at: at, members: [feature], count: count, box: box });
        }
      });
      return groups;
    }

    function clusterMarker(latlng, count) {
      var size = clusterSize(count);
      var span = document.createElement("span");
      span.textContent = count;
      var label = names.cluster.replace("%(count)s", count);
      var marker = L.marker(latlng, {
        icon: L.divIcon({ className: "mangel-cluster", html: span.outerHTML, iconSize: [size, size] }),
        title: label,
        keyboard: true,
        autoPanOnFocus: false
      }).on("click", function () { map.setView(latlng, Math.min(map.getZoom() + 2, 19)); });
      marker.on("add", function () { marker.getElement().setAttribute("aria-label", label); });
      return marker;
    }

    // Colour and shape both say the status (never colour alone); the legend shows the same.
    function symbol(status) {
      var template = document.querySelector('[data-symbol="' + status + '"]');
      return template ? template.innerHTML : "";
    }

    function reportedOn(seconds) {
      if (!seconds) { return ""; }
      var date = new Date(seconds * 1000).toLocaleDateString(document.documentElement.lang, {
        day: "numeric", month: "long", year: "numeric", timeZone: "Europe/Berlin"
      });
      return names.reported.replace("%(date)s", date);
    }

    // The popup: number, category and status as the link, the status symbol, the date.
    // Nothing personal: the endpoint has nothing personal to give.  Long category names
    // ("Straßenschaden/Schlagloch") may break after their slash, never inside a word.
    function popup(p) {
      var box = document.createElement("div");
      box.className = "map-popup";
      var link = document.createElement("a");
      link.href = reportUrl + p.id;
      reportName(p).split("/").forEach(function (part, i) {
        if (i) { link.appendChild(document.createTextNode("/")); link.appendChild(document.createElement("wbr")); }
        link.appendChild(document.createTextNode(part));
      });
      var line = document.createElement("p");
      line.innerHTML = symbol(p.status);
      var text = document.createElement("span");
      text.textContent = reportedOn(p.date);
      line.appendChild(text);
      box.appendChild(link);
      box.appendChild(line);
      return box;
    }

    function pinMarker(feature) {
      var c = feature.geometry.coordinates;
      var p = feature.properties;
      var name = reportName(p);
      var marker = L.marker([c[1], c[0]], {
        icon: L.divIcon({
          className: "mangel-pin mangel-pin--" + p.status,
          html: symbol(p.status),
          iconSize: [PIN, PIN],
          popupAnchor: [0, -PIN / 2]
        }),
        title: name,
        keyboard: true,
        autoPanOnFocus: false
      }).bindPopup(popup(p), {
        maxWidth: Math.min(260, map.getSize().x - 60),
        autoPanPadding: [16, 16]
      });
      marker.on("add", function () { marker.getElement().setAttribute("aria-label", name); });
      return marker;
    }

    function draw(collection) {
      var next = {};
      group(collection.features).forEach(function (g) {
        var first = g.members[0];
        var key, make;
        if (g.members.length === 1 && !first.properties.cluster) {
          key = "r" + first.properties.id;
          make = function () { return pinMarker(first); };
        } else {
          var c = first.geometry.coordinates;
          var latlng = L.latLng(c[1], c[0]);
          key = "c" + map.getZoom() + ":" + g.members.map(function (f) {
            return f.properties.cluster ? f.geometry.coordinates.join(",") + "x" + f.properties.count : f.properties.id;
          }).join(";");
          make = function () { return clusterMarker(latlng, g.count); };
        }
        next[key] = shown[key] || make().addTo(layer);
      });
      Object.keys(shown).forEach(function (key) {
        if (!next[key]) { layer.removeLayer(shown[key]); }
      });
      shown = next;
    }
    function load() {
      if (pending) { pending.abort(); }
      pending = new AbortController();
      var sep = source.indexOf("?") === -1 ? "?" : "&";
      fetch(source + sep + "bbox=" + widenedBox(map.getBounds()), { signal: pending.signal })
        .then(function (response) { return response.json(); })
        .then(draw)
        .catch(function () { /* a newer request replaced this one, or the list below serves */ });
    }
    map.on("moveend", load);
    load();

    // The list below shows the reports in the map's area; it follows every move.
    var list = document.getElementById("reports-list");
    var listStatus = document.querySelector("[data-list-status]");
    var listSource = el.getAttribute("data-list-source");
    var listRequest = null;
    function follow() {
      if (!list || !listSource) { return; }
      if (listRequest) { listRequest.abort(); }
      listRequest = new AbortController();
      var sep = listSource.indexOf("?") === -1 ? "?" : "&";
      fetch(listSource + sep + "teil=liste&bbox=" + map.getBounds().toBBoxString(), { signal: listRequest.signal })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(); })
        .then(function (html) {
          if (list.innerHTML.trim() === html.trim()) { return; }
          // Whoever is in the list with the keyboard keeps their place (or the list itself).
          var focused = list.contains(document.activeElement) ? document.activeElement : null;
          var href = focused && focused.getAttribute("href");
          list.innerHTML = html;
          if (focused) {
            var same = href && list.querySelector('a[href="' + href.replace(/"/g, "") + '"]');
            (same || list).focus();
          }
          if (listStatus) { listStatus.textContent = listStatus.getAttribute("data-msg-area"); }
        })
        .catch(function () { /* a newer move replaced this one */ });
    }
    map.on("moveend", follow);
    follow();
  }

  // --- a report's place -------------------------------------------------------------------
  function initPoint(el) {
    var base = baseMap(el);
    var point = data(el, "data-map-point");
    base.map.setView(point, 17);
    L.marker(point, { keyboard: false, alt: "" }).addTo(base.map);
  }

  var box = document.querySelector("[data-combobox]");
  if (box) { initCombobox(box); }
  // Photo-first: choosing or taking the photo sends it; the button stays for no JavaScript.
  document.querySelectorAll("[data-photo-first] input[type=file]").forEach(function (input) {
    var send = input.form.querySelector("[type=submit]");
    if (send) { send.remove(); }
    input.addEventListener("change", function () {
      if (input.files.length) { input.form.requestSubmit(); }
    });
  });
  if (!window.L) { return; }
  var picker = document.querySelector("[data-map-picker]");
  if (picker) { initPicker(picker); }
  var overview = document.querySelector("[data-map-overview]");
  if (overview) { initOverview(overview); }
  document.querySelectorAll("[data-map-point]").forEach(initPoint);
})();
