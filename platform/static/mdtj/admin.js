// Site-wide admin script (loaded by jazzmin's custom_js). Intentionally small.

// data-confirm="…": ask before a button/link acts or a form is submitted. Replaces inline
// onclick/onsubmit="return confirm(…)", which the Content-Security-Policy does not run.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var el = event.target.closest("button[data-confirm], input[data-confirm], a[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("form[data-confirm]") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
