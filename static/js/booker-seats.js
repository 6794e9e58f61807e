// The booker's slot grid: a party can start only where all its people can be seated together,
// in that time and the ones right after it (data-reach: how many people a party starting there
// can bring). The server greys out the other times when it answers; this keeps the grid in step
// while the booker ticks or unticks people, so that unticking someone brings the times back at once.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form.book-form");
  if (!form) { return; }
  var hint = form.querySelector("[data-seats-hint]");

  function people() {
    var me = form.querySelector('input[name="include_staff"]');
    var others = form.querySelectorAll('input[name="dependent_ids"]:checked').length;
    return (me === null || me.checked ? 1 : 0) + others;
  }

  function update() {
    // Nobody ticked yet: the times stay as for one person (the server asks who applies).
    var count = Math.max(people(), 1);
    var greyed = 0;
    form.querySelectorAll("input[data-reach]").forEach(function (input) {
      var fits = Number(input.dataset.reach) >= count;
      input.disabled = !fits;
      if (!fits) { input.checked = false; greyed += 1; }
      input.closest(".slot").classList.toggle("slot--closed", !fits);
    });
    if (hint) { hint.hidden = greyed === 0 || count <= 1; }
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "dependent_ids" || event.target.name === "include_staff") { update(); }
  });
  update();
});
