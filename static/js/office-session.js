// The session form's slot preview, refreshed as the admin types (no inline script: CSP).
// The server computes it with the same plan_slots() that saving uses; without
// JavaScript the "Preview slots" button gives the same box.
(function () {
  "use strict";
  var box = document.getElementById("slot-preview");
  if (!box || !window.fetch) { return; }
  var form = box.closest("form");
  var names = ["date", "start_time", "end_time", "slot_minutes", "desks"];
  var summary = box.querySelector("[data-role=summary]");
  var list = box.querySelector("[data-role=slots]");
  var timer = null;
  var latest = 0;

  function refresh() {
    var params = new URLSearchParams();
    for (var i = 0; i < names.length; i++) {
      var field = form.elements[names[i]];
      if (!field || !field.value) { return; }
      params.set(names[i], field.value);
    }
    var ticket = ++latest;
    fetch(box.dataset.url + "?" + params.toString(), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (ticket !== latest) { return; }
        if (data.error) { summary.textContent = data.message; list.textContent = ""; return; }
        summary.textContent = data.summary;
        list.textContent = "";
        data.slots.forEach(function (slot) {
          var item = document.createElement("li");
          item.textContent = slot.starts_at;
          list.appendChild(item);
        });
      })
      .catch(function () { /* the Preview button still works */ });
  }

  form.addEventListener("input", function (event) {
    if (names.indexOf(event.target.name) === -1) { return; }
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
  form.addEventListener("change", function (event) {
    if (names.indexOf(event.target.name) !== -1) { refresh(); }
  });
})();
