// The booker's slot grid: a time with fewer seats left than the people ticked cannot be chosen.
// The server greys those out when it answers; this keeps the grid in step while the booker ticks
// or unticks family members, so that unticking someone brings the times back at once.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form.book-form");
  if (!form) { return; }
  var hint = form.querySelector("[data-seats-hint]");

  function update() {
    var people = 1 + form.querySelectorAll('input[name="dependent_ids"]:checked').length;
    var greyed = 0;
    form.querySelectorAll("input[data-remaining]").forEach(function (input) {
      var fits = Number(input.dataset.remaining) >= people;
      input.disabled = !fits;
      if (!fits) { input.checked = false; greyed += 1; }
      input.closest(".slot").classList.toggle("slot--closed", !fits);
    });
    if (hint) { hint.hidden = greyed === 0; }
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "dependent_ids") { update(); }
  });
  update();
});
