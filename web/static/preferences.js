// Preferences: on a first visit (the form is marked
// data-offer-browser-zone), offer the time zone the browser reports when it
// is in the list and not the one selected. No inline script: the CSP
// forbids it.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var form = document.querySelector("form[data-offer-browser-zone]");
  if (!form || !window.Intl) { return; }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  var select = form.elements.time_zone;
  if (!zone || !select || select.value === zone) { return; }
  var known = Array.prototype.some.call(select.options, function (o) { return o.value === zone; });
  if (!known) { return; }
  document.getElementById("browser-zone-name").textContent = zone.replace(/_/g, " ");
  document.getElementById("browser-zone").hidden = false;
  document.getElementById("use-browser-zone").addEventListener("click", function () {
    select.value = zone;
    form.requestSubmit();
  });
});
