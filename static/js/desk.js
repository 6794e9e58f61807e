/* The desk: the board that refreshes itself, the QR scanner and the photo camera.
 *
 * A static file (the CSP is script-src 'self'); every page works without it:
 * codes can be typed, photos chosen with a file input, the board reloaded.
 * Messages come from data-msg-* attributes so that they are translated with
 * the page.
 */
(function () {
  "use strict";

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var hasCamera = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);

  var messages = document.querySelector("[data-desk-messages]");
  function msg(name) {
    return (messages && messages.getAttribute("data-msg-" + name)) || "";
  }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  /* --- small things every desk page has ---------------------------------------- */

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  /* --- the board: fetch the session's JSON every 15 s, no full reload ------------- */

  var board = document.querySelector("[data-board-url]");
  if (board) {
    var boardUrl = board.getAttribute("data-board-url");

    var read = function (data, path) {
      return path.split(".").reduce(function (value, key) {
        return value === null || value === undefined ? value : value[key];
      }, data);
    };

    var setFields = function (data) {
      document.querySelectorAll("[data-field]").forEach(function (node) {
        var value = read(data, node.getAttribute("data-field"));
        node.textContent = value === null || value === undefined ? "" : String(value);
      });
    };

    var rowFor = function (row) {
      var tr = make("tr", "desk-row desk-row--" + row.status + (row.when ? " desk-row--" + row.when : ""));
      tr.appendChild(make("td", "desk-row__time", row.time));
      var who = make("td", "desk-row__who");
      var link = make("a");
      link.href = row.url;
      link.appendChild(make("span", "desk-row__name", row.name));
      link.appendChild(document.createTextNode(" "));
      link.appendChild(make("span", "desk-row__kana", row.kana));
      who.appendChild(link);
      if (row.staff_note) {
        who.appendChild(document.createTextNode(" "));
        who.appendChild(make("span", "tag tag--plain desk-row__absent", row.staff_note));
      }
      var people = row.people || [];
      people.forEach(function (person) {
        if (person.kind === "staff" && person.later) {
          who.appendChild(document.createTextNode(" "));
          who.appendChild(make("span", "desk-row__later", person.time));
        }
      });
      var dependents = people.filter(function (person) { return person.kind === "dependent"; });
      if (dependents.length) {
        // Each dependent with their own time when a party spans slots, and the desk's notices as tags.
        who.appendChild(document.createTextNode("\n    "));
        var deps = make("span", "desk-row__deps", "+ ");
        dependents.forEach(function (person, index) {
          if (index) deps.appendChild(document.createTextNode("、"));
          var one = make("span", "desk-row__dep", person.name);
          if (person.later) {
            one.appendChild(document.createTextNode(" "));
            one.appendChild(make("span", "desk-row__later", person.time));
          }
          person.tags.forEach(function (tag) {
            one.appendChild(document.createTextNode(" "));
            one.appendChild(make("span", "tag tag--info desk-row__tag desk-row__tag--" + tag.code, tag.label));
          });
          deps.appendChild(one);
        });
        who.appendChild(deps);
      }
      tr.appendChild(who);
      var unit = make("td", "desk-row__unit", row.unit);
      if (row.crew) {
        unit.appendChild(document.createTextNode(" "));
        unit.appendChild(make("span", "desk-row__crew", row.crew));
      }
      tr.appendChild(unit);
      tr.appendChild(make("td", "desk-row__code", row.code));
      var status = make("td", "desk-row__status");
      status.appendChild(make("span", "desk-status desk-status--" + row.status, row.status_label));
      if (row.channel === "walk_in") {
        status.appendChild(document.createTextNode(" "));
        status.appendChild(make("span", "tag tag--plain", row.channel_label));
      }
      tr.appendChild(status);
      return tr;
    };

    var dueItem = function (row) {
      var li = make("li");
      var link = make("a");
      link.href = row.url;
      link.appendChild(make("span", "desk-due__time", row.time));
      link.appendChild(document.createTextNode(" " + row.name + (row.dependents.length ? " +" + row.dependents.length : "")));
      li.appendChild(link);
      return li;
    };

    var fill = function (name, rows, builder) {
      var list = name === "rows"
        ? document.querySelector("[data-rows]")
        : document.querySelector('[data-list="' + name + '"]');
      if (list) {
        // Keep the keyboard focus (WCAG 2.4.3): a link focused in the old rows is focused again
        // in the new ones (the same reservation's address), without scrolling the page.
        var focused = document.activeElement;
        var href = focused && list.contains(focused) ? focused.getAttribute("href") : null;
        list.replaceChildren.apply(list, rows.map(builder));
        if (href) {
          var again = list.querySelector('a[href="' + href.replace(/"/g, '\\"') + '"]');
          if (again) again.focus({ preventScroll: true });
          else {
            // The row is gone (checked in elsewhere): the list's heading takes the focus.
            var heading = list.closest("section").querySelector("h2");
            heading.setAttribute("tabindex", "-1");
            heading.focus({ preventScroll: true });
          }
        }
      }
      var empty = document.querySelector('[data-empty="' + name + '"]');
      if (empty) empty.hidden = rows.length > 0;
    };

    var refresh = function () {
      fetch(boardUrl, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          setFields(data);
          fill("rows", data.rows, rowFor);
          fill("due_now", data.due_now, dueItem);
          fill("due_next", data.due_next, dueItem);
          board.removeAttribute("data-stale");
          board.setAttribute("data-refreshed", data.generated_at);
        })
        .catch(function () {
          // Signed out or offline: keep what is shown, and say it is old.
          board.setAttribute("data-stale", "1");
        });
    };

    // The pause button (WCAG 2.2.2): a clerk reading the list or working through it with the
    // keyboard stops the refreshing, and starts it again (at once) when done.
    var paused = false;
    var pause = document.querySelector("[data-board-pause]");
    if (pause) {
      pause.hidden = false;
      pause.addEventListener("click", function () {
        paused = !paused;
        pause.setAttribute("aria-pressed", paused ? "true" : "false");
        pause.textContent = pause.getAttribute(paused ? "data-label-resume" : "data-label-pause");
        board.toggleAttribute("data-paused", paused);
        if (!paused) refresh();
      });
    }
    window.setInterval(function () {
      if (!document.hidden && !paused) refresh();
    }, 15000);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && !paused) refresh();
    });
  }

  /* --- reading QR codes with the camera, in the browser ----------------------------- */

  // BarcodeDetector reads QR codes natively on Android, ChromeOS and macOS; jsQR elsewhere.
  var nativeDetector = function () {
    if (!("BarcodeDetector" in window)) return Promise.resolve(null);
    return window.BarcodeDetector.getSupportedFormats()
      .then(function (formats) {
        return formats.indexOf("qr_code") >= 0 ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
      })
      .catch(function () { return null; });
  };

  // A reader on a video and a canvas: start(onText) calls onText with each text read until
  // onText returns true (done) or stop() is called. onFail(reason) for "nocamera" / "denied".
  function qrReader(video, canvas, say, onFail, readingText) {
    var stream = null;
    var detector = null;
    var running = false;
    var handler = null;

    var stop = function () {
      running = false;
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
    };

    var readWithJsQR = function () {
      if (typeof window.jsQR !== "function") return null;
      var scale = Math.min(1, 960 / video.videoWidth);
      var width = Math.round(video.videoWidth * scale);
      var height = Math.round(video.videoHeight * scale);
      canvas.width = width;
      canvas.height = height;
      var context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0, width, height);
      var image = context.getImageData(0, 0, width, height);
      var code = window.jsQR(image.data, width, height, { inversionAttempts: "attemptBoth" });
      return code && code.data ? code.data : null;
    };

    var tick = function () {
      if (!running) return;
      if (video.readyState < 2 || !video.videoWidth) {
        window.setTimeout(tick, 150);
        return;
      }
      var attempt = detector
        ? detector.detect(video).then(function (codes) { return codes.length ? codes[0].rawValue : null; })
        : Promise.resolve(readWithJsQR());
      attempt
        .catch(function () { return null; })
        .then(function (text) {
          if (!running) return;
          if (text && handler(text)) stop();
          else window.setTimeout(tick, text ? 900 : 120);
        });
    };

    var start = function (onText) {
      handler = onText;
      if (!hasCamera) {
        onFail("nocamera");
        return;
      }
      say(msg("starting"));
      navigator.mediaDevices
        .getUserMedia({
          audio: false,
          video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
        })
        .then(function (media) {
          stream = media;
          video.srcObject = media;
          return video.play().catch(function () {});
        })
        .then(nativeDetector)
        .then(function (native) {
          detector = native;
          running = true;
          video.parentNode.setAttribute("data-reader", native ? "native" : "jsqr");
          say(readingText);
          tick();
        })
        .catch(function () { onFail("denied"); });
    };

    return { start: start, stop: stop };
  }

  /* --- the scan page: the confirmation QR opens the reservation ----------------------- */

  var scanner = document.querySelector("[data-scanner]");
  if (scanner) {
    var statusLine = document.querySelector("[data-scan-status]");
    var startButton = document.querySelector("[data-scan-start]");
    var findForm = document.querySelector("[data-find-form]");
    var say = function (text) { if (statusLine) statusLine.textContent = text; };
    var reader = qrReader(scanner.querySelector("video"), scanner.querySelector("canvas"), say, function (reason) {
      say(msg(reason));
      if (startButton && reason === "denied") startButton.hidden = false;
    }, msg("reading"));
    var onText = function (text) {
      say(msg("found"));
      scanner.setAttribute("data-found", "1");
      findForm.querySelector("[data-qr]").value = text;
      var code = findForm.querySelector('input[name="code"]');
      if (code) code.value = "";
      findForm.submit();
      return true;
    };
    var begin = function () {
      if (startButton) startButton.hidden = true;
      reader.start(onText);
    };
    if (startButton) startButton.addEventListener("click", begin);
    window.addEventListener("pagehide", reader.stop);
    begin();
  }

  /* --- the application panel: mail or counter while the clerk ticks, the form's QR ----- */

  // The 申請書ID in a QR text: the one run of exactly 23 digits (the form's QR may hold a URL).
  var applicationIdIn = function (text) {
    var runs = (text.normalize ? text.normalize("NFKC") : text).match(/[0-9]+/g) || [];
    var found = runs.filter(function (run) { return run.length === 23; });
    return found.length === 1 ? found[0] : null;
  };
  var grouped = function (digits) { return digits.replace(/(\d{4})(?=\d)/g, "$1 "); };

  document.querySelectorAll("[data-application-form]").forEach(function (form) {
    var verdict = form.querySelector("[data-verdict]");
    var head = form.querySelector("[data-verdict-head]");
    var reasons = form.querySelector("[data-verdict-reasons]");
    var representative = form.querySelector("[data-representative]");
    var timer = null;
    var assess = function () {
      var body = new FormData(form);
      body.set("csrf_token", csrf);
      fetch(form.getAttribute("data-assess-url"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrf },
      })
        .then(function (response) { return response.json().then(function (data) { return [response.ok, data]; }); })
        .then(function (result) {
          var data = result[1];
          if (!result[0]) {
            head.textContent = data.message || "";
            return;
          }
          verdict.className = "desk-verdict desk-verdict--" + data.delivery;
          head.textContent = data.delivery === "mail" ? msg("mail") : msg("counter");
          reasons.textContent = "";
          data.reasons.forEach(function (reason) { reasons.appendChild(make("li", "", reason.text)); });
          if (representative && data.needs_representative) representative.hidden = false;
        })
        .catch(function () {});
    };
    var later = function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(assess, 350);
    };
    form.addEventListener("change", later);
    form.addEventListener("input", later);
    form.addEventListener("change", function () { form.setAttribute("data-dirty", ""); });
    form.addEventListener("input", function () { form.setAttribute("data-dirty", ""); });
  });

  // A family has a panel each. Saving or handing in one of them (or uploading a photo) reloads
  // the page: what was ticked in the others is saved first, so that nothing typed is lost.
  var saveDraft = function (form) {
    var body = new FormData(form);
    body.set("csrf_token", csrf);
    body.set("action", "save");
    return fetch(form.getAttribute("action"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf },
    }).then(function (response) {
      return response.json().then(function (data) {
        if (response.ok) {
          form.removeAttribute("data-dirty");
          return true;
        }
        var head = form.querySelector("[data-verdict-head]");
        if (head) head.textContent = data.message || "";
        form.closest("details").open = true;
        form.scrollIntoView({ block: "start" });
        return false;
      });
    }).catch(function () { return false; });
  };
  document.addEventListener("submit", function (event) {
    var submitting = event.target;
    if (submitting.hasAttribute("data-drafts-saved")) return;
    var others = Array.prototype.filter.call(document.querySelectorAll("[data-application-form][data-dirty]"),
                                             function (form) { return form !== submitting; });
    if (!others.length) return;
    event.preventDefault();
    var submitter = event.submitter || null;
    others.reduce(function (chain, form) {
      return chain.then(function (ok) { return ok && saveDraft(form); });
    }, Promise.resolve(true)).then(function (ok) {
      if (!ok) return;
      submitting.setAttribute("data-drafts-saved", "");
      if (submitter && submitter.form === submitting) submitting.requestSubmit(submitter);
      else submitting.requestSubmit();
    });
  }, true);

  var formQr = document.querySelector("[data-formqr]");
  if (formQr && hasCamera && typeof formQr.showModal === "function") {
    var qrStatus = formQr.querySelector("[data-formqr-status]");
    var qrSay = function (text) { qrStatus.textContent = text; };
    var qrReaderForForm = qrReader(formQr.querySelector("video"), formQr.querySelector("canvas"), qrSay,
                                   function (reason) { qrSay(msg(reason)); }, msg("formqr"));
    var target = null;
    var closeQr = function () {
      qrReaderForForm.stop();
      if (formQr.open) formQr.close();
    };
    document.querySelectorAll("[data-form-qr]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        target = document.getElementById(button.getAttribute("data-form-qr"));
        formQr.showModal();
        qrSay(msg("formqr"));
        qrReaderForForm.start(function (text) {
          var digits = applicationIdIn(text);
          if (!digits) {
            // A booking's QR, or something else: say so and keep reading.
            qrSay(msg("notform"));
            return false;
          }
          target.value = grouped(digits);
          closeQr();
          target.dispatchEvent(new Event("input", { bubbles: true }));
          target.focus();
          return true;
        });
      });
    });
    formQr.querySelector("[data-formqr-close]").addEventListener("click", closeQr);
    formQr.addEventListener("cancel", function () { qrReaderForForm.stop(); });
    window.addEventListener("pagehide", qrReaderForForm.stop);
  }

  /* --- photos: the camera with a face guide, or a file ------------------------------ */

  var setPhoto = function (checkInId, data) {
    var img = document.querySelector('[data-photo-img="' + checkInId + '"]');
    var none = document.querySelector('[data-photo-none="' + checkInId + '"]');
    var status = document.querySelector('[data-photo-status="' + checkInId + '"]');
    var take = document.querySelector('[data-photo-take="' + checkInId + '"]');
    if (img) {
      img.src = data.url;
      img.hidden = false;
    }
    if (none) none.hidden = true;
    if (status) status.textContent = data.message || "";
    if (take && msg("retake")) take.textContent = msg("retake");
  };

  var upload = function (url, blob, checkInId, report) {
    var body = new FormData();
    body.append("csrf_token", csrf);
    body.append("photo", blob, "photo.jpg");
    report(msg("uploading"), false);
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf },
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () { return {}; })
          .then(function (data) { return { ok: response.ok, status: response.status, data: data }; });
      })
      .then(function (result) {
        if (result.ok) {
          setPhoto(checkInId, result.data);
          report(result.data.message || "", true);
          return true;
        }
        var text = result.data.message || msg(result.status === 413 ? "toolarge" : "failed");
        report(text, false, true);
        return false;
      })
      .catch(function () {
        report(msg("failed"), false, true);
        return false;
      });
  };

  document.querySelectorAll("[data-photo-file]").forEach(function (form) {
    var input = form.querySelector('input[type="file"]');
    var send = form.querySelector(".desk-photo-file__send");
    var checkInId = form.getAttribute("data-photo-file");
    var status = document.querySelector('[data-photo-status="' + checkInId + '"]');
    if (send) send.hidden = true;
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) return;
      var limit = parseInt(input.getAttribute("data-max"), 10);
      var report = function (text, ok, bad) {
        if (!status) return;
        status.textContent = text;
        status.classList.toggle("desk-person__status--error", !!bad);
      };
      if (limit && file.size > limit) {
        report(msg("toolarge"), false, true);
        input.value = "";
        return;
      }
      upload(form.action, file, checkInId, report).then(function () { input.value = ""; });
    });
  });

  var dialog = document.querySelector("[data-capture]");
  if (dialog && hasCamera && typeof dialog.showModal === "function") {
    var capVideo = dialog.querySelector("video");
    var frame = dialog.querySelector("[data-capture-frame]");
    var guide = dialog.querySelector("[data-guide]");
    var capStatus = dialog.querySelector("[data-capture-status]");
    var shoot = dialog.querySelector("[data-capture-shoot]");
    var nameLine = dialog.querySelector("[data-capture-name]");
    var facing = "user";
    var capStream = null;
    var current = null;

    var capSay = function (text, ok, bad) {
      capStatus.textContent = text;
      capStatus.classList.toggle("desk-capture__status--error", !!bad);
    };

    var stopCamera = function () {
      if (capStream) capStream.getTracks().forEach(function (track) { track.stop(); });
      capStream = null;
      capVideo.srcObject = null;
    };

    // The guide marks exactly what the server keeps: the largest centred
    // 3.5 : 4.5 part of the frame (services/photos.py crop_box).
    var layoutGuide = function () {
      var width = capVideo.videoWidth;
      var height = capVideo.videoHeight;
      if (!width || !height) return;
      frame.style.setProperty("--ratio", String(width / height));
      var boxW = 100;
      var boxH = 100;
      if (width * 45 > height * 35) boxW = ((height * 35) / 45 / width) * 100;
      else boxH = ((width * 45) / 35 / height) * 100;
      guide.style.width = boxW + "%";
      guide.style.height = boxH + "%";
      guide.style.left = (100 - boxW) / 2 + "%";
      guide.style.top = (100 - boxH) / 2 + "%";
      frame.setAttribute("data-ready", "1");
    };
    capVideo.addEventListener("loadedmetadata", layoutGuide);
    capVideo.addEventListener("resize", layoutGuide);

    var startCamera = function () {
      stopCamera();
      frame.removeAttribute("data-ready");
      shoot.disabled = true;
      capSay(msg("starting"));
      return navigator.mediaDevices
        .getUserMedia({
          audio: false,
          video: { facingMode: { ideal: facing }, width: { ideal: 1920 }, height: { ideal: 1080 } },
        })
        .then(function (media) {
          capStream = media;
          capVideo.srcObject = media;
          return capVideo.play().catch(function () {});
        })
        .then(function () {
          layoutGuide();
          shoot.disabled = false;
          capSay(msg("ready"));
        })
        .catch(function () {
          capSay(msg("denied"), false, true);
        });
    };

    var close = function () {
      stopCamera();
      if (dialog.open) dialog.close();
    };

    document.querySelectorAll("[data-photo-take]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        current = button;
        nameLine.textContent = button.getAttribute("data-name");
        capSay("");
        dialog.showModal();
        startCamera();
      });
    });

    shoot.addEventListener("click", function () {
      if (!current || !capVideo.videoWidth) return;
      shoot.disabled = true;
      var still = document.createElement("canvas");
      still.width = capVideo.videoWidth;
      still.height = capVideo.videoHeight;
      still.getContext("2d").drawImage(capVideo, 0, 0, still.width, still.height);
      still.toBlob(
        function (blob) {
          var id = current.getAttribute("data-photo-take");
          upload(current.getAttribute("data-upload-url"), blob, id, capSay).then(function (ok) {
            shoot.disabled = false;
            if (ok) close();
          });
        },
        "image/jpeg",
        0.92
      );
    });

    dialog.querySelector("[data-capture-switch]").addEventListener("click", function () {
      facing = facing === "user" ? "environment" : "user";
      startCamera();
    });
    dialog.querySelector("[data-capture-close]").addEventListener("click", close);
    dialog.addEventListener("cancel", stopCamera);
    window.addEventListener("pagehide", stopCamera);
  }
})();
