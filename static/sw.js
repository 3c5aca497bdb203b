/* AuthVault's service worker (served as /sw.js by authvault/web/offline.py, which writes in the
   version and the shell's file list).

   What it keeps: the app shell (/offline: a page with no data) and static files, in one cache per
   release; an update installs a new cache and deletes the old ones. What it never keeps: pages
   (the list carries account names and codes), the API, anything not under /static/. A navigation
   that fails (server stopped, no network, a proxy's 502/503/504) gets the shell instead of the
   browser's error page; the shell opens the offline copy from IndexedDB itself. */
"use strict";

const VERSION = "__VERSION__";
const SHELL_FILES = __SHELL_FILES__;
const CACHE = "authvault-shell-" + VERSION;
const SHELL_URL = "/offline";

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // the shell is fetched fresh (not from the HTTP cache); a failure here fails the install
    await cache.addAll([new Request(SHELL_URL, { cache: "reload" }),
                        ...SHELL_FILES.map((u) => new Request(u, { cache: "reload" }))]);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("authvault-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

function isStatic(url) {
  return url.origin === self.location.origin && url.pathname.startsWith("/static/");
}

// With ?v=<hash> a URL names one version of a file: the cache answers first. Without (what an ES
// module imports), the network answers first and the cache only when the server is out of reach.
async function staticResponse(request, url) {
  const cache = await caches.open(CACHE);
  if (url.searchParams.has("v")) {
    const hit = await cache.match(request);
    if (hit) return hit;
    const resp = await fetch(request);
    if (resp.ok && resp.type === "basic") await cache.put(request, resp.clone());
    return resp;
  }
  try {
    const resp = await withTimeout(fetch(request), 4000);
    if (resp.ok && resp.type === "basic") { await cache.put(request, resp.clone()); return resp; }
    if (resp.status < 502) return resp;
  } catch (e) { /* out of reach */ }
  return (await cache.match(request)) || Response.error();
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}

async function navigation(request) {
  try {
    const resp = await fetch(request);
    if (![502, 503, 504].includes(resp.status)) return resp;   // never cached: pages carry data
  } catch (e) { /* server or network out of reach */ }
  const cache = await caches.open(CACHE);
  return (await cache.match(SHELL_URL)) || Response.error();
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") { event.respondWith(navigation(request)); return; }
  if (isStatic(url)) event.respondWith(staticResponse(request, url));
  // everything else (the API, /sw.js, the manifest) goes to the network untouched
});
