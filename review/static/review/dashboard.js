// The period menu shows its figures as soon as it changes (the Show button is for no script).
// A file, not an onchange attribute: the Content-Security-Policy runs no inline script.
(function () {
  "use strict";
  var select = document.getElementById("id_days");
  if (select && select.form) {
    select.addEventListener("change", function () { select.form.submit(); });
  }
})();
