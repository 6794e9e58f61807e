/* The desk that keeps working offline (issue 20).
 *
 * The session's roster and a queue of actions (check-ins, photos) are kept in IndexedDB,
 * encrypted with AES-GCM under a key made here as non-extractable: the key itself is kept in
 * IndexedDB too, so a reload offline can still read the queue, but its bytes can never be read
 * out by a script (docs/operations.md says what this protects against and what not).
 * Each action gets an id made here; the server applies each id once, so sending again after a
 * lost answer is safe. Actions go in the order they were made; the first one that cannot be
 * sent (no network, signed out) stops the round until the next try.
 * Everything is wiped at sign-out, at the end of the session's day, and after the time the
 * server gives (the campaign's time, or DESK_OFFLINE_KEEP_MINUTES); a photo leaves the device once it is sent.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-offline-desk]");
  if (!root) return;

  var DB_NAME = "outreach-desk";
  var sessionId = root.getAttribute("data-session");
  var rosterUrl = root.getAttribute("data-roster-url");
  var actionsUrl = root.getAttribute("data-actions-url");
  var retrySeconds = parseInt(root.getAttribute("data-retry-seconds"), 10) || 20;
  var maxUpload = parseInt(root.getAttribute("data-max-upload"), 10) || 0;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";

  var statusLine = root.querySelector("[data-net-status]");
  var readyLine = root.querySelector("[data-ready-status]");
  var list = root.querySelector("[data-list]");
  var listEmpty = root.querySelector("[data-list-empty]");
  var sentList = root.querySelector("[data-sent-list]");
  var conflicts = root.querySelector("[data-conflicts]");
  var conflictList = root.querySelector("[data-conflict-list]");
  var find = root.querySelector("[data-find]");

  function msg(name, values) {
    var text = root.getAttribute("data-msg-" + name) || "";
    Object.keys(values || {}).forEach(function (key) { text = text.replace("{" + key + "}", values[key]); });
    return text;
  }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  /* --- IndexedDB ---------------------------------------------------------------------- */

  var dbPromise = null;

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          var db = request.result;
          db.createObjectStore("meta");
          db.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
          db.createObjectStore("sent", { keyPath: "seq", autoIncrement: true });
        };
        request.onsuccess = function () {
          var db = request.result;
          // Another tab wiping the data: let it.
          db.onversionchange = function () { db.close(); dbPromise = null; };
          resolve(db);
        };
        request.onerror = function () { reject(request.error); };
      });
    }
    return dbPromise;
  }

  function run(storeName, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(storeName, mode);
        var result;
        var request = work(tx.objectStore(storeName));
        if (request) request.onsuccess = function () { result = request.result; };
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  var get = function (store, key) { return run(store, "readonly", function (s) { return s.get(key); }); };
  var put = function (store, value, key) {
    return run(store, "readwrite", function (s) { return key === undefined ? s.put(value) : s.put(value, key); });
  };
  var remove = function (store, key) { return run(store, "readwrite", function (s) { return s.delete(key); }); };
  var all = function (store) { return run(store, "readonly", function (s) { return s.getAll(); }); };

  /* --- encryption at rest --------------------------------------------------------------- */

  var keyPromise = null;

  function theKey() {
    if (!keyPromise) {
      keyPromise = get("meta", "key").then(function (found) {
        if (found) return found;
        // Non-extractable: usable by this origin's scripts, never readable as bytes.
        return crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"])
          .then(function (key) { return put("meta", key, "key").then(function () { return key; }); });
      });
    }
    return keyPromise;
  }

  function seal(bytes) {
    var iv = crypto.getRandomValues(new Uint8Array(12));
    return theKey().then(function (key) {
      return crypto.subtle.encrypt({ name: "AES-GCM", iv: iv }, key, bytes);
    }).then(function (data) { return { iv: iv, data: data }; });
  }

  function unseal(sealed) {
    return theKey().then(function (key) {
      return crypto.subtle.decrypt({ name: "AES-GCM", iv: sealed.iv }, key, sealed.data);
    });
  }

  var sealJson = function (value) { return seal(new TextEncoder().encode(JSON.stringify(value))); };
  var unsealJson = function (sealed) {
    return unseal(sealed).then(function (bytes) { return JSON.parse(new TextDecoder().decode(bytes)); });
  };

  /* --- the device, the roster, the queue ------------------------------------------------ */

  function deviceId() {
    return get("meta", "device").then(function (found) {
      if (found) return found;
      var made = "desk-" + crypto.randomUUID();
      return put("meta", made, "device").then(function () { return made; });
    });
  }

  var editing = false;
  var state = { roster: null, queue: [], sent: [], online: null, signedOut: false, syncing: false };

  function loadAll() {
    return Promise.all([get("meta", "roster-" + sessionId), all("queue"), all("sent")]).then(function (found) {
      var roster = found[0] ? unsealJson(found[0]) : Promise.resolve(null);
      var queue = Promise.all(found[1].map(function (item) {
        return unsealJson(item.fields).then(function (fields) { return { item: item, fields: fields }; });
      }));
      var sent = Promise.all(found[2].map(function (item) {
        return unsealJson(item.entry).then(function (entry) { entry.seq = item.seq; return entry; });
      }));
      return Promise.all([roster, queue, sent]);
    }).then(function (loaded) {
      state.roster = loaded[0];
      state.queue = loaded[1];
      state.sent = loaded[2];
    });
  }

  function keepRoster(roster) {
    return sealJson(roster).then(function (sealed) {
      return Promise.all([
        put("meta", sealed, "roster-" + sessionId),
        // Not sealed: when to wipe must be readable without the key.
        put("meta", roster.wipe_at, "wipe-at"),
      ]);
    }).then(function () { state.roster = roster; });
  }

  function enqueue(kind, fields, label, photo) {
    return deviceId().then(function (device) {
      var full = Object.assign({
        action_id: crypto.randomUUID(), device_id: device, kind: kind, made_at: new Date().toISOString(),
      }, fields);
      return Promise.all([sealJson({ fields: full, label: label }), photo ? seal(photo) : null]);
    }).then(function (sealed) {
      return put("queue", { kind: kind, session: sessionId, fields: sealed[0], photo: sealed[1] });
    }).then(loadAll).then(render).then(sync);
  }

  /* --- wiping ------------------------------------------------------------------------- */

  function wipe(reason) {
    var unsent = state.queue.length;
    return openDb().then(function (db) { db.close(); }).catch(function () {}).then(function () {
      dbPromise = null;
      keyPromise = null;
      return new Promise(function (resolve) {
        var request = indexedDB.deleteDatabase(DB_NAME);
        request.onsuccess = request.onerror = request.onblocked = function () { resolve(); };
      });
    }).then(function () {
      state.roster = null;
      state.queue = [];
      state.sent = [];
      root.setAttribute("data-wiped", reason);
      render();
      readyLine.textContent = unsent ? msg("wiped-unsent", { n: unsent }) : msg("wiped");
    });
  }

  function wipeIfDue() {
    return get("meta", "wipe-at").then(function (wipeAt) {
      if (wipeAt && Date.parse(wipeAt) <= Date.now()) return wipe("time").then(function () { return true; });
      return false;
    });
  }

  /* --- sending ------------------------------------------------------------------------ */

  function fetchRoster() {
    return fetch(rosterUrl, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        if (response.redirected || !json) {
          state.signedOut = true;
          throw new Error("signed out");
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        state.signedOut = false;
        return response.json();
      })
      .then(function (roster) {
        csrf = roster.csrf_token;
        delete roster.csrf_token;
        return keepRoster(roster);
      });
  }

  function sendOne(entry) {
    var body = new FormData();
    Object.keys(entry.fields.fields).forEach(function (name) {
      var value = entry.fields.fields[name];
      (Array.isArray(value) ? value : [value]).forEach(function (one) { body.append(name, String(one)); });
    });
    body.append("csrf_token", csrf);
    var photo = entry.item.photo ? unseal(entry.item.photo) : Promise.resolve(null);
    return photo.then(function (bytes) {
      if (bytes) body.append("photo", new Blob([bytes], { type: "image/jpeg" }), "photo.jpg");
      return fetch(actionsUrl, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrf },
      });
    }).then(function (response) {
      if (response.redirected) {
        state.signedOut = true;
        throw new Error("signed out");
      }
      if (response.status >= 500 || response.status === 401 || response.status === 403 || response.status === 400) {
        throw new Error("HTTP " + response.status);  // try again later, in order
      }
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) {
          // Refused as it is (too large, malformed): kept in the log for the clerk, not retried.
          answer = { outcome: "conflict", code: answer.error || String(response.status), message: answer.message || "" };
        }
        return sealJson({ label: entry.fields.label, kind: entry.item.kind, answer: answer, at: new Date().toISOString() })
          .then(function (sealed) {
            // The photo leaves the device here: the queue item holding it is deleted.
            return run("sent", "readwrite", function (s) { return s.put({ entry: sealed }); })
              .then(function () { return remove("queue", entry.item.seq); });
          });
      });
    });
  }

  function sync() {
    if (state.syncing) return Promise.resolve();
    state.syncing = true;
    return wipeIfDue().then(function (wiped) {
      if (wiped) return null;
      return fetchRoster().then(function () {
        state.online = true;
        var round = function () {
          return all("queue").then(function (items) {
            if (!items.length) return null;
            return unsealJson(items[0].fields).then(function (fields) {
              return sendOne({ item: items[0], fields: fields });
            }).then(round);
          });
        };
        return round();
      }).then(function () {
        // The roster again, with what was just sent and what other desks did meanwhile.
        return fetchRoster();
      }).catch(function () {
        state.online = false;
      });
    }).catch(function () { state.online = false; })
      .then(loadAll).then(function () { state.syncing = false; render(); }, function () { state.syncing = false; });
  }

  // On the input itself, not delegated: a render (a sync round ending) may replace the list while
  // the camera or file chooser is open, and the photo taken must still be queued.
  function photoChosen(input) {
    if (!input.files || !input.files[0]) return;
    var file = input.files[0];
    var personId = parseInt(input.getAttribute("data-photo-for"), 10);
    if (maxUpload && file.size > maxUpload) {
      statusLine.textContent = msg("toolarge");
      input.value = "";
      return;
    }
    var name = "";
    state.roster.reservations.forEach(function (r) {
      r.people.forEach(function (p) { if (p.id === personId) name = p.name; });
    });
    file.arrayBuffer().then(function (bytes) {
      input.value = "";
      return enqueue("photo", { person_id: personId }, name, bytes);
    });
  }

  /* --- what the clerk sees -------------------------------------------------------------- */

  function waiting() {
    var people = {};
    var photos = {};
    var applications = {};
    state.queue.forEach(function (entry) {
      var fields = entry.fields.fields;
      if (fields.kind === "check_in") {
        (fields.people || []).forEach(function (id) { people[id] = fields.made_at; });
      } else if (fields.kind === "photo") {
        photos[fields.person_id] = true;
      } else if (fields.kind === "application") {
        applications[fields.person_id] = true;
      }
    });
    return { people: people, photos: photos, applications: applications };
  }

  function clock(iso) {
    var when = new Date(iso);
    return when.toLocaleTimeString("ja-JP", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Tokyo" });
  }

  function personRow(reservation, person, pending) {
    var row = make("div", "offline-person");
    row.setAttribute("data-person", person.id);
    var checked = person.check_in || (pending.people[person.id] ? { checked_in_at: pending.people[person.id] } : null);
    var label = make("span", "offline-person__name", person.name);
    if (!checked && reservation.status !== "cancelled") {
      var box = make("input");
      box.type = "checkbox";
      box.id = "here-" + person.id;
      box.value = person.id;
      box.checked = true;
      box.setAttribute("data-here", "");
      var labelFor = make("label");
      labelFor.htmlFor = box.id;
      labelFor.appendChild(label);
      labelFor.appendChild(document.createTextNode(" " + person.kana + " " + person.time));
      row.appendChild(box);
      row.appendChild(labelFor);
    } else {
      row.appendChild(label);
      row.appendChild(document.createTextNode(" " + person.time));
    }
    person.notices.forEach(function (text) { row.appendChild(make("span", "desk-notice", text)); });
    if (checked) {
      var status = make("span", "offline-person__checked", msg("checked", { time: clock(checked.checked_in_at) }));
      if (!person.check_in) {
        status.appendChild(make("span", "offline-person__waiting", " (" + msg("waiting") + ")"));
        row.setAttribute("data-waiting", "");
      }
      row.appendChild(status);
      if (person.check_in && person.check_in.note) {
        row.appendChild(make("p", "offline-person__note", person.check_in.note));
      }
      var photoState = pending.photos[person.id] ? msg("photo-waiting")
        : person.check_in && person.check_in.photo ? msg("photo-saved") : "";
      if (photoState) row.appendChild(make("span", "offline-person__photo", photoState));
      var take = make("label", "button button--secondary button--small offline-person__take");
      take.appendChild(make("span", "", msg("photo")));
      var input = make("input", "desk-photo-file__input");
      input.type = "file";
      input.accept = "image/jpeg,image/png,image/webp";
      input.setAttribute("capture", "user");
      input.setAttribute("data-photo-for", person.id);
      input.setAttribute("aria-label", msg("photo") + " " + person.name);
      input.addEventListener("change", function () { photoChosen(input); });
      take.appendChild(input);
      row.appendChild(take);
      row.appendChild(applicationPanel(person, pending));
    }
    return row;
  }

  // The application record, offline: what the online panel records (templates/desk/_application.html),
  // sent through the same action. Mail or counter is decided by the server and comes back in the
  // answer once it is sent.
  var APP_FIELDS = ["application_id", "identity_documents", "pin_form", "surrendered", "address_change_planned",
                    "adult_ward", "age_group", "legal_representative"];

  function choice(type, name, value, text) {
    var label = make("label", "offline-app__doc");
    var box = make("input");
    box.type = type;
    box.name = name;
    box.value = value;
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + text));
    return label;
  }

  function documentsFieldset(name, legend) {
    var docs = make("fieldset", "offline-app__docs");
    docs.appendChild(make("legend", "", legend));
    ((state.roster && state.roster.documents) || []).forEach(function (doc) {
      docs.appendChild(choice("checkbox", name, doc.code, doc.name));
    });
    return docs;
  }

  function textField(id, name, text, maxLength) {
    var field = make("div", "field");
    var label = make("label", "field__label", text);
    label.htmlFor = id;
    var input = make("input", "field__input");
    input.id = id;
    input.name = name;
    input.maxLength = maxLength;
    input.setAttribute("autocomplete", "off");
    field.appendChild(label);
    field.appendChild(input);
    return field;
  }

  function applicationPanel(person, pending) {
    var details = make("details", "offline-app");
    details.setAttribute("data-app-for", person.id);
    details.appendChild(make("summary", "", msg("app-title") + (pending.applications[person.id] ? " (" + msg("waiting") + ")" : "")));
    var form = make("form", "offline-app__form");
    form.setAttribute("data-app-form", "");
    var idField = textField("app-id-" + person.id, "application_id", msg("app-id"), 60);
    idField.querySelector("input").setAttribute("inputmode", "numeric");
    form.appendChild(idField);
    if (person.asks_age_group) {
      var age = make("fieldset", "offline-app__docs");
      age.appendChild(make("legend", "", msg("app-age")));
      ["under_1", "under_15", "adult"].forEach(function (group) {
        age.appendChild(choice("radio", "age_group", group, msg("app-" + group)));
      });
      form.appendChild(age);
    }
    form.appendChild(documentsFieldset("identity_documents", msg("app-docs")));
    var cards = make("fieldset", "offline-app__docs");
    cards.appendChild(make("legend", "", msg("app-cards")));
    if (state.roster && state.roster.allows_single_photo_id_with_pin) {
      cards.appendChild(choice("checkbox", "pin_entered", "y", msg("app-pin-entered")));
    }
    cards.appendChild(choice("checkbox", "pin_form", "y", msg("app-pin-form")));
    ["notification_card", "juki_card", "my_number_card"].forEach(function (card) {
      var text = msg("app-" + card) + (card === "my_number_card" && person.is_renewal ? " (" + msg("app-renewal") + ")" : "");
      cards.appendChild(choice("checkbox", "surrendered", card, text));
    });
    cards.appendChild(choice("checkbox", "address_change_planned", "y", msg("app-move")));
    cards.appendChild(choice("checkbox", "adult_ward", "y", msg("app-ward")));
    form.appendChild(cards);
    var rep = make("fieldset", "offline-app__docs");
    rep.setAttribute("data-representative", "");
    rep.appendChild(make("legend", "", msg("app-rep")));
    rep.appendChild(textField("app-rep-name-" + person.id, "representative_name", msg("app-rep-name"), 100));
    rep.appendChild(textField("app-rep-relation-" + person.id, "representative_relation", msg("app-rep-relation"), 30));
    rep.appendChild(documentsFieldset("representative_documents", msg("app-rep-docs")));
    form.appendChild(rep);
    // A representative is asked for a child (by birth date, or the age group ticked) and an adult ward.
    function showRepresentative() {
      var data = new FormData(form);
      rep.hidden = !(person.minor || data.get("adult_ward") || data.get("age_group") === "under_1" ||
                     data.get("age_group") === "under_15" || data.get("representative_name"));
    }
    showRepresentative();
    form.addEventListener("change", showRepresentative);
    var buttons = make("div", "offline-app__buttons");
    [["save", "button button--secondary"], ["submit", "button"]].forEach(function (pair) {
      var button = make("button", pair[1], msg("app-" + pair[0]));
      button.type = "submit";
      button.name = "action";
      button.value = pair[0];
      buttons.appendChild(button);
    });
    form.appendChild(buttons);
    // Only what the clerk touched is sent (and so changed on the server): the panel starts empty
    // offline, and an untouched field must not erase what the online panel recorded before.
    var touched = {};
    function touch(event) {
      var name = event.target && event.target.name;
      if (!name || name === "action") return;
      touched[name.indexOf("representative_") === 0 ? "legal_representative" : name] = true;
    }
    form.addEventListener("input", function (event) { editing = true; touch(event); });
    form.addEventListener("change", touch);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      editing = false;
      var data = new FormData(form);
      var fields = {
        person_id: person.id,
        application_id: data.get("application_id") || "",
        identity_documents: data.getAll("identity_documents"),
        pin_entered: data.get("pin_entered") ? "y" : "",
        pin_form: data.get("pin_form") ? "y" : "",
        surrendered: data.getAll("surrendered"),
        address_change_planned: data.get("address_change_planned") ? "y" : "",
        adult_ward: data.get("adult_ward") ? "y" : "",
        age_group: data.get("age_group") || "",
        representative_name: data.get("representative_name") || "",
        representative_relation: data.get("representative_relation") || "",
        representative_documents: data.getAll("representative_documents"),
        action: event.submitter ? event.submitter.value : "save",
        fields: APP_FIELDS.concat(["pin_entered"]).filter(function (name) { return touched[name]; }),
      };
      touched = {};
      enqueue("application", fields, person.name);
    });
    details.addEventListener("toggle", function () { if (!details.open) editing = false; });
    details.appendChild(form);
    return details;
  }

  function card(reservation, pending) {
    var article = make("article", "card offline-booking offline-booking--" + reservation.status);
    article.setAttribute("data-reservation", reservation.id);
    article.setAttribute("data-search", [reservation.code.replace(/-/g, ""), reservation.code, reservation.name,
      reservation.kana].concat(reservation.people.map(function (p) { return p.name + " " + p.kana; }))
      .join(" ").toLowerCase());
    var head = make("h3", "offline-booking__name", reservation.name);
    head.appendChild(make("span", "offline-booking__kana", " " + reservation.kana));
    article.appendChild(head);
    var facts = make("p", "offline-booking__facts muted",
                     reservation.time + " · " + reservation.code + " · " + reservation.unit);
    if (reservation.status === "cancelled") facts.appendChild(make("span", "tag tag--plain", " " + msg("cancelled")));
    article.appendChild(facts);
    var open = 0;
    reservation.people.forEach(function (person) {
      article.appendChild(personRow(reservation, person, pending));
      if (!person.check_in && !pending.people[person.id]) open += 1;
    });
    if (open && reservation.status !== "cancelled") {
      var go = make("button", "button offline-booking__go", msg("checkin"));
      go.type = "button";
      go.setAttribute("data-check-in", reservation.id);
      article.appendChild(go);
    }
    return article;
  }

  function filter() {
    var words = (find.value || "").toLowerCase().replace(/\s+/g, " ").trim();
    var shown = 0;
    list.querySelectorAll("[data-reservation]").forEach(function (node) {
      var match = !words || node.getAttribute("data-search").indexOf(words.replace(/-/g, "")) >= 0
        || node.getAttribute("data-search").indexOf(words) >= 0;
      node.hidden = !match;
      if (match) shown += 1;
    });
    listEmpty.hidden = shown > 0 && !!state.roster;
    listEmpty.textContent = state.roster ? msg("empty") : msg("nodata");
  }

  function logItem(entry) {
    var answer = entry.answer || {};
    var li = make("li", "offline-log__item offline-log__item--" + (answer.outcome || "conflict"));
    li.setAttribute("data-outcome", answer.outcome || "");
    li.appendChild(make("span", "offline-log__time", clock(entry.at)));
    li.appendChild(document.createTextNode(" " + msg("kind-" + entry.kind) + " " + (entry.label || "") + ": "));
    li.appendChild(make("strong", "", msg(answer.outcome || "conflict")));
    if (answer.message) li.appendChild(make("span", "offline-log__message", " " + answer.message));
    return li;
  }

  function render() {
    var pending = waiting();
    var n = state.queue.length;
    var line = state.signedOut ? msg("signin", { n: n })
      : state.online === false ? msg("offline", { n: n })
      : n ? msg("sending", { n: n }) : msg("online");
    statusLine.textContent = line;
    root.setAttribute("data-waiting-count", String(n));
    root.querySelector("[data-net]").setAttribute("data-net", state.online === false ? "offline" : "online");
    var reservations = state.roster ? state.roster.reservations : [];
    // Not while the clerk is filling in an application panel: what is typed would be lost.
    if (!editing) {
      list.replaceChildren.apply(list, reservations.map(function (r) { return card(r, pending); }));
      filter();
    }
    var recent = state.sent.slice(-50).reverse();
    sentList.replaceChildren.apply(sentList, recent.map(logItem));
    var decide = recent.filter(function (entry) { return entry.answer && entry.answer.outcome !== "applied"; });
    conflictList.replaceChildren.apply(conflictList, decide.map(logItem));
    conflicts.hidden = decide.length === 0;
  }

  /* --- the clerk's actions ------------------------------------------------------------- */

  list.addEventListener("click", function (event) {
    var button = event.target.closest("[data-check-in]");
    if (!button) return;
    var id = parseInt(button.getAttribute("data-check-in"), 10);
    var reservation = state.roster.reservations.filter(function (r) { return r.id === id; })[0];
    var article = button.closest("[data-reservation]");
    var people = Array.prototype.map.call(article.querySelectorAll("[data-here]:checked"), function (box) {
      return parseInt(box.value, 10);
    });
    if (!people.length) return;
    button.disabled = true;
    var names = reservation.people.filter(function (p) { return people.indexOf(p.id) >= 0; })
      .map(function (p) { return p.name; }).join("、");
    enqueue("check_in", { reservation_id: id, slot_id: reservation.slot_id, people: people }, names);
  });

  find.addEventListener("input", filter);
  root.querySelector("[data-sync-now]").addEventListener("click", sync);
  root.querySelector("[data-wipe-now]").addEventListener("click", function () { wipe("clerk"); });

  // Signing out wipes the device's desk data (the server also sends Clear-Site-Data).
  document.querySelectorAll('form[action$="/office/logout"]').forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.hasAttribute("data-wiped")) return;
      event.preventDefault();
      if (state.queue.length && !window.confirm(msg("signout-unsent", { n: state.queue.length }))) return;
      wipe("signout").then(function () {
        form.setAttribute("data-wiped", "");
        form.submit();
      });
    });
  });

  /* --- the booking's QR code, read and matched on the tablet ------------------------------ */

  function sha256Hex(text) {
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(function (digest) {
      return Array.prototype.map.call(new Uint8Array(digest), function (b) { return ("0" + b.toString(16)).slice(-2); })
        .join("");
    });
  }

  // The manage token in a QR text: the last part of a /r/<token> address (services/confirmations).
  function tokenIn(text) {
    var path;
    try { path = new URL(text.trim()).pathname; } catch (error) { path = text.trim(); }
    var parts = path.split("/").filter(function (part) { return part; });
    return parts.length >= 2 && parts[parts.length - 2] === "r" ? parts[parts.length - 1] : null;
  }

  var scanButton = root.querySelector("[data-scan]");
  var scanDialog = root.querySelector("[data-scan-dialog]");
  if (scanButton && scanDialog && navigator.mediaDevices && navigator.mediaDevices.getUserMedia
      && typeof scanDialog.showModal === "function") {
    var video = scanDialog.querySelector("video");
    var canvas = scanDialog.querySelector("canvas");
    var say = scanDialog.querySelector("[data-scan-say]");
    var stream = null;
    var reading = false;
    var stopReading = function () {
      reading = false;
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
      if (scanDialog.open) scanDialog.close();
    };
    var readFrame = function () {
      if (!video.videoWidth || typeof window.jsQR !== "function") return null;
      var scale = Math.min(1, 960 / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      var context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(image.data, canvas.width, canvas.height, { inversionAttempts: "attemptBoth" });
      return code && code.data ? code.data : null;
    };
    var found = function (text) {
      var token = tokenIn(text);
      if (!token || !state.roster) return Promise.resolve(false);
      return sha256Hex(token).then(function (digest) {
        var match = state.roster.reservations.filter(function (r) { return r.qr === digest; })[0];
        if (!match) return false;
        stopReading();
        find.value = match.code;
        filter();
        var cardNode = list.querySelector('[data-reservation="' + match.id + '"]');
        if (cardNode) {
          cardNode.setAttribute("data-found", "");
          cardNode.scrollIntoView({ block: "start" });
          var go = cardNode.querySelector("[data-check-in]") || cardNode.querySelector("h3");
          if (go.tagName === "H3") go.setAttribute("tabindex", "-1");
          go.focus();
        }
        return true;
      });
    };
    var tick = function () {
      if (!reading) return;
      var text = video.readyState >= 2 ? readFrame() : null;
      var next = text ? found(text) : Promise.resolve(false);
      next.then(function (done) {
        if (done || !reading) return;
        if (text) say.textContent = msg("scan-unknown");
        window.setTimeout(tick, text ? 900 : 150);
      });
    };
    scanButton.hidden = false;
    scanButton.addEventListener("click", function () {
      scanDialog.showModal();
      say.textContent = msg("scan-reading");
      navigator.mediaDevices.getUserMedia({ audio: false, video: { facingMode: { ideal: "environment" } } })
        .then(function (media) {
          stream = media;
          video.srcObject = media;
          return video.play().catch(function () {});
        })
        .then(function () { reading = true; tick(); })
        .catch(function () { say.textContent = msg("scan-denied"); });
    });
    scanDialog.querySelector("[data-scan-close]").addEventListener("click", stopReading);
    scanDialog.addEventListener("cancel", stopReading);
    window.addEventListener("pagehide", stopReading);
  }

  /* --- the service worker: the page and its files for offline use ------------------------- */

  function ready(text) {
    readyLine.textContent = text;
  }

  if ("serviceWorker" in navigator && window.isSecureContext && window.crypto && crypto.subtle) {
    navigator.serviceWorker.register(root.getAttribute("data-sw-url"), { scope: root.getAttribute("data-scope") })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        return new Promise(function (resolve) {
          var channel = new MessageChannel();
          channel.port1.onmessage = function (event) { resolve(event.data && event.data.kept); };
          registration.active.postMessage({ keep: window.location.pathname }, [channel.port2]);
        });
      })
      .then(function (kept) {
        // Kept now, or earlier (the page may have come from the cache, offline).
        if (kept || navigator.serviceWorker.controller) {
          root.setAttribute("data-offline-ready", "");
          ready(msg("ready"));
        }
      })
      .catch(function () { ready(msg("notready")); });
  } else {
    ready(msg("notready"));
  }

  window.addEventListener("online", sync);
  window.addEventListener("offline", function () { state.online = false; render(); });
  window.setInterval(function () {
    wipeIfDue().then(function (wiped) { if (!wiped && state.queue.length) sync(); });
  }, retrySeconds * 1000);

  wipeIfDue().then(function (wiped) {
    if (wiped) return null;
    return loadAll().then(render).then(sync);
  }).catch(function () { ready(msg("notready")); });
})();
