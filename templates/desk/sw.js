/* The desk's service worker (issue 20): keeps the offline desk page and its static files so that
 * the desk opens without the network. It never keeps personal data: the page is a shell, and the
 * roster and the queue live encrypted in IndexedDB (static/js/desk-offline.js). Served by the app
 * from /desk/sw.js, so that its scope is the desk. */
"use strict";

var CACHE = "desk-shell-{{ version }}";
var FILES = {{ files|tojson }};
// The offline desk pages: /desk/sessions/<id>/offline
var SHELL = /^\/desk\/sessions\/\d+\/offline$/;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(FILES); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) { return key !== CACHE; })
      .map(function (key) { return caches.delete(key); }));
  }).then(function () { return self.clients.claim(); }));
});

// The page asks for itself to be kept (its first visit is not yet under this worker).
self.addEventListener("message", function (event) {
  var data = event.data || {};
  var port = event.ports && event.ports[0];
  if (data.keep && SHELL.test(new URL(data.keep, self.location.href).pathname)) {
    event.waitUntil(keep(data.keep).then(function (ok) { if (port) port.postMessage({ kept: ok }); }));
  }
});

function keep(url) {
  return fetch(url, { credentials: "same-origin" }).then(function (response) {
    // A sign-in page answered after a redirect is not the desk: keep what was kept before.
    if (!response.ok || response.redirected) return false;
    return caches.open(CACHE).then(function (cache) {
      return cache.put(new URL(url, self.location.href).pathname, response).then(function () { return true; });
    });
  }).catch(function () { return false; });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request, { ignoreSearch: true }).then(function (hit) {
      return hit || fetch(request);
    }));
    return;
  }
  if (SHELL.test(url.pathname)) {
    // The network first (a fresh page and CSRF token), the kept page when it is gone.
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(url.pathname, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(url.pathname).then(function (hit) { return hit || Response.error(); });
    }));
  }
});
