// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // A table wider than the screen scrolls sideways inside its .table-wrap; keyboard users
  // can only scroll it when it takes the focus, and it is named after its caption.
  document.querySelectorAll(".table-wrap").forEach(function (wrap) {
    if (wrap.scrollWidth <= wrap.clientWidth || wrap.hasAttribute("tabindex")) {
      return;
    }
    var caption = wrap.querySelector("caption");
    wrap.tabIndex = 0;
    wrap.setAttribute("role", "region");
    if (caption) {
      wrap.setAttribute("aria-label", caption.textContent.trim());
    }
  });

  // Move focus to the error summary so screen readers announce what went wrong.
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) {
    return;
  }
  summary.focus();

  // A link in the summary focuses its field with the field's label and message in view
  // (a plain jump would hide them above the input on a phone), and leaves the URL alone
  // so the redirect after a successful submit does not inherit the fragment.
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    var target = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!target) {
      return;
    }
    var control = target.matches("input, select, textarea, button")
      ? target
      : target.querySelector("input, select, textarea");
    event.preventDefault();
    (target.closest(".field") || target).scrollIntoView();
    (control || target).focus({ preventScroll: true });
  });
})();
