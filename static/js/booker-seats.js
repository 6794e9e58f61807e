// The booker's slot grid: a party can start only where all its people can be seated together,
// in that time and the ones right after it (data-reach: how many people a party starting there
// can bring). The server greys out the other times when it answers; this keeps the grid in step
// while the booker ticks or unticks people, so that unticking someone brings the times back at once.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form.book-form");
  if (!form) { return; }
  var hint = form.querySelector("[data-seats-hint]");
  var status = form.querySelector("[data-seats-status]");
  var lastGreyed = null;
  // A summary of the server's refusals at the top of the form takes the focus, so that it is
  // seen and read first (the field errors may be below the screen).
  var summary = form.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }

  // Say what changed, once per change, in the live region (not on the first paint).
  function announce(greyed, unticked) {
    if (!status || lastGreyed === null || (greyed === lastGreyed && !unticked)) { return; }
    var parts = [];
    if (greyed > 0) { parts.push(status.dataset.msgGreyed.replace("{n}", greyed)); }
    else { parts.push(status.dataset.msgClear); }
    if (unticked) { parts.push(status.dataset.msgUnticked); }
    status.textContent = parts.join(" ");
  }

  function people() {
    var me = form.querySelector('input[name="include_staff"]');
    var others = form.querySelectorAll('input[name="dependent_ids"]:checked').length;
    return (me === null || me.checked ? 1 : 0) + others;
  }

  function update() {
    // Nobody ticked yet: the times stay as for one person (the server asks who applies).
    var count = Math.max(people(), 1);
    var greyed = 0;
    var unticked = false;
    form.querySelectorAll("input[data-reach]").forEach(function (input) {
      var fits = Number(input.dataset.reach) >= count;
      input.disabled = !fits;
      if (!fits) {
        if (input.checked) { unticked = true; }
        input.checked = false;
        greyed += 1;
      }
      input.closest(".slot").classList.toggle("slot--closed", !fits);
    });
    if (hint) { hint.hidden = greyed === 0 || count <= 1; }
    announce(greyed, unticked);
    lastGreyed = greyed;
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "dependent_ids" || event.target.name === "include_staff") { update(); }
  });
  update();
});
