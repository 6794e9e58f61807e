// The staff import's upload form: while the file is sent and checked (a few seconds for
// 50,000 lines) the button is disabled and a "checking the file" status shows (CSP: no inline script).
(function () {
  "use strict";
  var form = document.getElementById("import-upload");
  if (!form) { return; }
  var status = form.querySelector("[data-role=checking]");
  form.addEventListener("submit", function () {
    var file = form.elements.file;
    if (!file || !file.value) { return; }  // the server says what is missing
    var button = form.querySelector("button[type=submit]");
    // Disabled after this event, so that the browser still sends the form once.
    window.setTimeout(function () { button.disabled = true; }, 0);
    button.setAttribute("aria-busy", "true");
    status.hidden = false;
  });
  // Back from the preview (page cache): the form is usable again.
  window.addEventListener("pageshow", function () {
    form.querySelector("button[type=submit]").disabled = false;
    status.hidden = true;
  });
}());
