// Progressive enhancement only: typing a start fills the end with the shortest booking
// allowed (data-min-minutes), unless the visitor chose an end of their own.
(function () {
  "use strict";
  var form = document.querySelector("form[data-min-minutes]");
  var start = form && form.querySelector("#start");
  var end = form && form.querySelector("#end");
  if (!start || !end) {
    return;
  }
  var minutes = parseInt(form.dataset.minMinutes, 10);
  var filled = end.value;  // the server fills it the same way
  end.addEventListener("input", function () { filled = null; });
  start.addEventListener("change", function () {
    var parts = start.value.split(":");
    if (parts.length < 2 || (filled === null && end.value !== "")) {
      return;
    }
    var total = (parseInt(parts[0], 10) * 60 + parseInt(parts[1], 10) + minutes) % 1440;
    var value = [Math.floor(total / 60), total % 60]
      .map(function (n) { return String(n).padStart(2, "0"); })
      .join(":");
    end.value = value;
    filled = value;
  });
})();
