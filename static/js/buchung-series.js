// Progressive enhancement only: choosing a season fills the series' first and last day
// (the server does the same for empty fields when the form is sent without this file).
(function () {
  "use strict";
  var season = document.getElementById("season_id");
  var first = document.getElementById("first_day");
  var last = document.getElementById("last_day");
  if (!season || !first || !last) {
    return;
  }
  season.addEventListener("change", function () {
    var option = season.options[season.selectedIndex];
    if (!option || !option.dataset.first) {
      return;
    }
    var now = new Date();
    var today = [now.getFullYear(), now.getMonth() + 1, now.getDate()]
      .map(function (n) { return String(n).padStart(2, "0"); })
      .join("-");
    first.value = option.dataset.first > today ? option.dataset.first : today;
    last.value = option.dataset.last;
  });
})();
