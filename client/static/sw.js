// Gatehouse service worker: keeps the app shell so the app opens with no network.
// The build fills in the cache's version and the shell's list of files; a new build gets a
// new cache. The build's code lies in a folder named by its hash (/app/<hash>/), which the
// server lets browsers keep for good; the page, this worker and the manifest are checked
// each time. e2e/tests/service_worker_update.spec.js deploys builds one after another.
const CACHE = 'gatehouse-__VERSION__';
const SHELL = __ASSETS__;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

// The previous build's cache is kept until the next one: a page still open on it (a guard's
// phone left on overnight) may yet open a screen whose code it has not loaded, and the server
// has only the new build. Older ones are deleted (the cache keys come in creation order).
self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => {
        const older = keys.filter((k) => k.startsWith('gatehouse-') && k !== CACHE);
        return Promise.all(older.slice(0, -1).map((k) => caches.delete(k)));
      })
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  // Records never come from this cache: they live in IndexedDB and travel over the sync socket.
  if (request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/api/')) {
    return;
  }
  // This build's page; a file from this build's cache, else from the previous build's.
  const current = caches.open(CACHE);
  if (request.mode === 'navigate') {
    event.respondWith(current.then((cache) => cache.match('/index.html')).then((cached) => cached || fetch(request)));
    return;
  }
  event.respondWith(
    current
      .then((cache) => cache.match(request))
      .then((cached) => cached || caches.match(request))
      .then((cached) => cached || fetch(request)),
  );
});
