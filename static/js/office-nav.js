// The office menu's sections are <details> elements: they open and close without
// this file. It makes them behave like a menu bar: one section open at a time,
// closed again by Escape (focus back on its heading) or by a click elsewhere.
(function () {
  "use strict";
  var sections = document.querySelectorAll(".office-nav__section");
  if (!sections.length) return;

  function closeAll(except) {
    sections.forEach(function (section) {
      if (section !== except) section.open = false;
    });
  }

  sections.forEach(function (section) {
    section.addEventListener("toggle", function () {
      if (section.open) closeAll(section);
    });
  });

  document.addEventListener("click", function (event) {
    if (!event.target.closest(".office-nav__section")) closeAll(null);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector(".office-nav__section[open]");
    if (!open) return;
    open.open = false;
    open.querySelector("summary").focus();
  });
})();
