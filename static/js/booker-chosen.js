// The sticky bar of the booker's slot grid restates the date and time chosen (issue 16 item 10),
// as the server writes it when the page comes back with a time ticked. Loaded after booker-seats.js,
// so that a time it has just unticked (the party no longer fits) clears the line too.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form.book-form");
  var line = form && form.querySelector("[data-chosen]");
  if (!line) { return; }
  var label = line.getAttribute("data-label") || "%s";

  function refresh() {
    var chosen = form.querySelector(".slot input:checked");
    line.textContent = chosen ? label.replace("%s", chosen.getAttribute("data-when") || "") : "";
  }

  form.addEventListener("change", refresh);
  refresh();
});
