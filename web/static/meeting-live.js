// The live part of the meeting pages (no inline script: the CSP forbids
// it). It follows the page's server-sent event stream (#live[data-events]):
// every "state" event lists who is here and who waits, and the lists are
// redrawn from it; when the meeting's status or the viewer's own state
// changes (started, ended, admitted, removed), the page reloads, so the
// server renders every state and the page works without this script too.
// The host's buttons marked data-live-form post with fetch() instead of
// leaving the page. Copy buttons (data-copy="ID") copy the text of ID.
(function () {
  "use strict";

  function copyText(target) {
    return target.tagName === "TEXTAREA" || target.tagName === "INPUT" ? target.value : target.textContent;
  }

  function setUpCopyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var target = document.getElementById(button.getAttribute("data-copy"));
      if (!target) { return; }
      var label = button.textContent;
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = copyText(target);
        var copied = function () {
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = label; }, 2000);
        };
        var fallback = function () {
          // Older browsers, and pages not in a secure context.
          var area = document.createElement("textarea");
          area.value = text;
          document.body.appendChild(area);
          area.select();
          try { document.execCommand("copy"); copied(); } finally { area.remove(); }
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(copied, fallback);
        } else {
          fallback();
        }
      });
    });
  }

  function tag(text) {
    var span = document.createElement("span");
    span.className = "tag";
    span.textContent = text;
    return span;
  }

  function actionForm(path, action, id, label, secondary) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = path + "/" + action;
    form.className = "inline";
    form.setAttribute("data-live-form", "");
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "participant";
    input.value = String(id);
    var button = document.createElement("button");
    button.type = "submit";
    button.textContent = label;
    if (secondary) { button.className = "secondary"; }
    form.append(input, button);
    return form;
  }

  // person builds a list item as the server renders it; names are text,
  // never markup.
  function person(p, control, path, waiting) {
    var li = document.createElement("li");
    li.setAttribute("data-id", String(p.id));
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = p.name;
    li.append(name);
    if (p.host) { li.append(" ", tag("host")); }
    if (p.guest) { li.append(" ", tag("guest")); }
    if (p.you) { li.append(" ", tag("you")); }
    if (control && waiting) {
      li.append(" ", actionForm(path, "admit", p.id, "Admit", false), " ", actionForm(path, "remove", p.id, "Remove", true));
    } else if (control && !p.host) {
      li.append(" ", actionForm(path, "remove", p.id, "Remove", true));
    }
    return li;
  }

  // drawn remembers what each list shows, so that an event that changes
  // nothing in it leaves it alone: redrawing replaces its buttons, and a
  // click whose press and release land on two different buttons is lost.
  var drawn = {};

  function renderList(live, id, people, waiting) {
    var list = document.getElementById(id);
    var count = document.getElementById(id + "-count");
    if (!list) { return; }
    var signature = JSON.stringify(people);
    if (drawn[id] === signature) { return; }
    drawn[id] = signature;
    var control = live.getAttribute("data-control") === "true";
    var path = live.getAttribute("data-path");
    list.replaceChildren.apply(list, people.map(function (p) { return person(p, control, path, waiting); }));
    if (count) { count.textContent = String(people.length); }
  }

  function render(live, state) {
    renderList(live, "present", state.present || [], false);
    renderList(live, "waiting", state.waiting || [], true);
    var note = document.getElementById("locked-note");
    if (note) { note.hidden = !state.locked; }
    var lock = document.getElementById("lock");
    if (lock) {
      lock.textContent = state.locked ? "Unlock meeting" : "Lock meeting";
      lock.form.elements.locked.value = state.locked ? "false" : "true";
    }
  }

  function showProblem(text) {
    var problem = document.getElementById("live-problem");
    if (problem) {
      problem.textContent = text;
      problem.hidden = false;
    }
  }

  // interrupted is what the page says once its stream has failed this many
  // times in a row; it goes when the stream is back.
  var interruptedAfter = 3;
  var interrupted = "Live updates are interrupted. The page keeps trying; reload it to see the latest.";

  function follow(live) {
    var status = live.getAttribute("data-status");
    var you = live.getAttribute("data-you") || "";
    var source = null;
    var failures = 0;
    var retry = 0;
    var stopped = false;

    function stop() {
      stopped = true;
      clearTimeout(retry);
      if (source) { source.close(); }
    }

    function connect() {
      var stream = new EventSource(live.getAttribute("data-events"));
      source = stream;
      stream.addEventListener("state", function (event) {
        if (failures >= interruptedAfter) {
          var problem = document.getElementById("live-problem");
          if (problem && problem.textContent === interrupted) { problem.hidden = true; }
        }
        failures = 0;
        var state = JSON.parse(event.data);
        if (state.status !== status || (state.you || "") !== you) {
          stop();
          window.location.reload();
          return;
        }
        render(live, state);
      });
      // EventSource reconnects by itself after a lost connection (another
      // portal process answers), but not after an answer that is not a
      // stream — a proxy's 502 while the portal restarts, a 503: it closes
      // for good, and the page would never change again. Open a new one,
      // waiting longer after each failure in a row (about 1, 2, 4 … 30 s,
      // each between half and one and a half times that, so that the pages
      // a restart cut off at the same moment do not all come back at once).
      // An answer that will not change (signed out: 403) is asked again
      // every 30 s or so; the banner tells the viewer to reload.
      stream.addEventListener("error", function () {
        if (stopped || stream.readyState !== EventSource.CLOSED) { return; }
        failures++;
        if (failures === interruptedAfter) { showProblem(interrupted); }
        var seconds = Math.min(30, Math.pow(2, failures - 1)) * (0.5 + Math.random());
        retry = setTimeout(connect, seconds * 1000);
      });
    }
    connect();

    // A form that leaves the page (join, leave, start, end) must not be
    // overtaken by a reload its own change provokes.
    document.addEventListener("submit", function (event) {
      if (!event.defaultPrevented && !event.target.hasAttribute("data-live-form")) {
        stop();
      }
    });

    live.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.hasAttribute("data-live-form")) { return; }
      event.preventDefault();
      fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin"
      }).then(function (response) {
        if (!response.ok) {
          showProblem("That did not work (" + response.status + "). Reload the page and try again.");
        }
      }, function () {
        showProblem("The portal could not be reached. Check your connection and try again.");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpCopyButtons();
    var live = document.getElementById("live");
    // A page that joins by itself (autosubmit.js posts its form) is left
    // at once: following it could reload it over the join in flight.
    var leaving = document.querySelector("form[data-autosubmit]");
    if (live && live.hasAttribute("data-events") && window.EventSource && !leaving) {
      follow(live);
    }
  });
})();
