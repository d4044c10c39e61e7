// Keyboard shortcuts for the common moves on My day; no inline script (the CSP allows none).
// A key only moves the focus (or opens a fold): nothing is sent without a deliberate Enter.
(function () {
  var MOVES = {
    c: {field: ".call-outcome"},
    p: {field: "input[name=amount]"},
    f: {fold: ".follow-up-move", field: "input[name=due_on]"},
    r: {fold: ".reschedule-move", field: "input[name=due_on]"},
    o: {fold: ".case-move", field: "input[name=subject]"},
    e: {fold: ".email-move", field: "select[name=template]"}
  };
  function tasks() { return Array.from(document.querySelectorAll(".task")); }
  function current() { return document.activeElement && document.activeElement.closest(".task"); }
  function reach(task, move) {
    var scope = task;
    if (move.fold) {
      var summary = task.querySelector(move.fold);
      if (!summary) return false;
      scope = summary.parentElement;
      // A row swapped in is wired by htmx only when it settles (20 ms later): wire the fold
      // now, or a key pressed at once would open it with nothing listening for its toggle.
      if (window.htmx && !scope.open) window.htmx.process(scope);
      scope.open = true;
    }
    var field = scope.querySelector(move.field);
    if (field) {
      field.focus();
      return true;
    }
    if (!move.fold) return false;
    // A fold's form is fetched when it is first opened (htmx, on its toggle event): focus
    // the field once the form is in.
    scope.addEventListener("htmx:afterSettle", function () {
      var loaded = scope.querySelector(move.field);
      if (loaded) loaded.focus();
    }, {once: true});
    return true;
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target && (target.matches("input, textarea, select") || target.isContentEditable)) return;
    var list = tasks(), here = current(), index = list.indexOf(here);
    if (event.key === "/") {
      var box = document.getElementById("q");
      if (box) { event.preventDefault(); box.focus(); }
    } else if ((event.key === "j" || event.key === "k") && list.length) {
      var next = event.key === "j" ? Math.min(index + 1, list.length - 1) : Math.max(index - 1, 0);
      list[next].focus();
    } else if (here && MOVES[event.key]) {
      if (reach(here, MOVES[event.key])) event.preventDefault();
    }
  });
})();

// A table wider than a phone scrolls sideways inside itself; keyboard users must be able to
// reach it to scroll it (WCAG 2.1.1), so a table that overflows is made focusable.
(function () {
  function reachable() {
    document.querySelectorAll("main table").forEach(function (table) {
      if (table.scrollWidth > table.clientWidth) table.setAttribute("tabindex", "0");
      else table.removeAttribute("tabindex");
    });
  }
  document.addEventListener("DOMContentLoaded", reachable);
  window.addEventListener("resize", reachable);
  document.addEventListener("htmx:afterSwap", reachable);
})();
