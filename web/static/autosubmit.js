// Submits a form marked data-autosubmit as soon as the page loads (the SAML
// HTTP-POST binding), without inline script, which the CSP forbids.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-autosubmit]");
  if (form) { form.submit(); }
});
