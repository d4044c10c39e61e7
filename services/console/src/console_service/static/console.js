// Keyboard shortcuts for the common moves on My day; no inline script (the CSP allows none).
(function () {
  function tasks() { return Array.from(document.querySelectorAll(".task")); }
  function current() { return document.activeElement && document.activeElement.closest(".task"); }
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
    } else if (event.key === "c" && here) {
      var outcome = here.querySelector(".call-outcome");
      if (outcome) { event.preventDefault(); outcome.focus(); }
    }
  });
})();
