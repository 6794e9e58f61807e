// The staff import's progress page: polls the JSON endpoint and updates the bar and counts
// (no inline script: CSP). Without JavaScript the page reloads itself (<noscript> meta refresh).
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || !window.fetch || box.dataset.state !== "running") { return; }
  function part(name) { return box.querySelector("[data-role=" + name + "]"); }
  var delay = 1000;
  var titles = {done: box.dataset.titleDone, failed: box.dataset.titleFailed};

  function show(data) {
    var bar = part("bar");
    bar.max = data.total || 1;
    bar.value = data.applied;
    bar.textContent = data.percent + "%";
    part("lines").textContent = data.lines;
    // Grouped like the server's figures (50,000), in Japanese as in English.
    part("created").textContent = data.created.toLocaleString("en-US");
    part("updated").textContent = data.updated.toLocaleString("en-US");
    part("unchanged").textContent = data.unchanged.toLocaleString("en-US");
    var message = part("message");
    if (message.textContent !== data.message) { message.textContent = data.message; }
    box.dataset.state = data.state;
    box.className = "card o-progress o-progress--" + data.state;
    if (data.finished) {
      if (titles[data.state]) { part("title").textContent = titles[data.state]; }
      message.setAttribute("role", data.state === "failed" ? "alert" : "status");
      if (data.state === "failed") { message.classList.add("o-progress__message--error"); }
      part("when").textContent = "";
      part("links").hidden = false;
    }
  }

  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        show(data);
        delay = 1000;
        if (!data.finished) { window.setTimeout(poll, delay); }
      })
      .catch(function () {
        // The server may be restarting: keep asking, less often; the import resumes on its own.
        delay = Math.min(delay * 2, 10000);
        window.setTimeout(poll, delay);
      });
  }
  window.setTimeout(poll, delay);
}());
