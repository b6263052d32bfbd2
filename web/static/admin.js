// The admin pages' small helpers (no inline script: the CSP forbids it).
// Every page works without them; they only make it quicker to use.
//
//  - A refused form's error summary (data-error-summary) takes the focus,
//    so a screen reader announces it and Tab starts from its links.
//  - Copy buttons (button[data-copy="ID"]) put the value of ID on the
//    clipboard and say "Copied" in the page's aria-live region
//    (#copy-status); where the clipboard API is refused (an http:// page,
//    an old browser) the value is selected for the admin to copy.
//  - Preset buttons (button[data-preset="ID"][data-value]) put their value
//    into the field ID.
//  - Forms marked data-confirm ask before they are sent, with the text of
//    the attribute; data-confirm-unchecked="ID" asks only when the
//    checkbox ID was ticked when the page was shown and is not any more.
//  - A form that posts is sent once: a double click on its button would
//    post it twice, and the browser shows the answer to the second (for a
//    removal, "not found"). Back to the page (the back/forward cache), it
//    can be sent again.
(function () {
  "use strict";

  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
      summary.scrollIntoView({ block: "start" });
    }
  }

  function say(text) {
    var status = document.getElementById("copy-status");
    if (!status) { return; }
    // Emptied first, so the same words twice are announced twice.
    status.textContent = "";
    setTimeout(function () { status.textContent = text; }, 50);
  }

  function setUpCopyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var target = document.getElementById(button.getAttribute("data-copy"));
      if (!target) { return; }
      var label = button.textContent;
      var name = button.getAttribute("data-copy-name") || "The value";
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = target.value !== undefined ? target.value : target.textContent;
        var copied = function () {
          button.textContent = "Copied";
          say(name + " was copied to the clipboard.");
          setTimeout(function () { button.textContent = label; }, 2000);
        };
        var selectIt = function () {
          // No clipboard access: select the value, for Ctrl+C / Cmd+C.
          if (target.select) {
            target.focus();
            target.select();
          } else {
            var range = document.createRange();
            range.selectNodeContents(target);
            var selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
          }
          var done = false;
          try { done = document.execCommand("copy"); } catch (e) { done = false; }
          if (done) {
            copied();
          } else {
            say(name + " is selected: press Ctrl+C (Cmd+C on a Mac) to copy it.");
          }
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(copied, selectIt);
        } else {
          selectIt();
        }
      });
    });
  }

  function setUpPresets() {
    document.querySelectorAll("button[data-preset]").forEach(function (button) {
      var target = document.getElementById(button.getAttribute("data-preset"));
      if (!target) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        target.value = button.getAttribute("data-value");
        target.focus();
      });
    });
  }

  function setUpConfirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      var box = form.getAttribute("data-confirm-unchecked");
      var checkbox = box ? document.getElementById(box) : null;
      var wasChecked = checkbox ? checkbox.checked : false;
      form.addEventListener("submit", function (event) {
        if (checkbox && !(wasChecked && !checkbox.checked)) { return; }
        if (!window.confirm(form.getAttribute("data-confirm"))) {
          event.preventDefault();
        }
      });
    });
  }

  function sendOnce() {
    // On the document, so that it runs after a form's own listeners (a
    // declined confirmation has prevented the submit: not sent).
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (event.defaultPrevented || (form.method || "").toLowerCase() !== "post") { return; }
      if (form.hasAttribute("data-sent")) {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-sent", "");
      // The portal answers within its 10 s request deadline; a form still
      // waiting after 15 s was not answered (the network, Stop pressed, a
      // download that left the page in place) and may be sent again.
      window.setTimeout(function () { form.removeAttribute("data-sent"); }, 15000);
    });
    window.addEventListener("pageshow", function () {
      document.querySelectorAll("form[data-sent]").forEach(function (form) { form.removeAttribute("data-sent"); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    sendOnce();
    setUpCopyButtons();
    setUpPresets();
    setUpConfirmations();
    focusErrorSummary();
  });
})();
