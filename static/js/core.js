/* AuthVault's page core, shared by every page: the JSON API, toasts, busy forms, one i18n
   dictionary, one date formatter, small DOM helpers, and the page dispatch. No framework, no
   build step. Each part of the product has its own file (static/js/<part>.js, loaded with defer
   after this one) that adds its pages to AuthVault.pages; <body data-page> picks the page. */
"use strict";

(function () {
  /* One dictionary for every string a script shows: base.html's #i18n plus the blocks of the
     page (<script type="application/json" class="i18n">), each key defined once. */
  const T = {};
  for (const block of document.querySelectorAll('script[type="application/json"]#i18n, script[type="application/json"].i18n')) {
    Object.assign(T, JSON.parse(block.textContent));
  }
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  function toast(text, ms = 1800) {
    const box = document.getElementById("toast");
    box.textContent = text;
    box.classList.add("show");
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => box.classList.remove("show"), ms);
  }

  /* The page's calls in flight, cancelled when it locks (lockPage): an answer the server gives
     after the lock is a 401 (and a console error) for a page that is going away. A cancelled
     call never settles. */
  let calls = new AbortController();
  const callSignal = () => calls.signal;
  const never = () => new Promise(() => {});

  /* Call the JSON API; resolve with the body, or throw an Error whose message is for a person. */
  async function api(method, url, body, extraHeaders) {
    const headers = Object.assign({ "X-CSRFToken": csrf(), Accept: "application/json" }, extraHeaders || {});
    const signal = calls.signal;
    const opts = { method, headers, credentials: "same-origin", signal };
    if (body instanceof FormData) opts.body = body;
    else if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    let resp;
    try { resp = await fetch(url, opts); } catch (e) { if (signal.aborted) return never(); throw new Error(T.network); }
    let data = null;
    try { data = await resp.json(); } catch (e) { if (signal.aborted) return never(); /* not JSON */ }
    if (!resp.ok) {
      const err = new Error((data && data.error && data.error.message) || T.network);
      err.code = data && data.error && data.error.code;
      err.status = resp.status;
      err.body = data;
      throw err;
    }
    return data;
  }

  function formJSON(form) {
    const out = {};
    for (const [k, v] of new FormData(form).entries()) out[k] = v;
    return out;
  }

  function showError(form, message) {
    const box = form.querySelector(".error") || document.getElementById("form-error");
    if (box) box.textContent = message || "";
  }

  function busy(form, on) {
    for (const b of form.querySelectorAll("button")) b.disabled = on;
  }

  /* "{name} has {n}" with values filled in; an unknown {key} stays as it is. */
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
  }

  /* The one date formatter: a time (ISO text, seconds since the epoch, or a Date) in the page's
     language and this device's time zone, as
       "datetime" (the default) "Dec 1, 2026, 10:42 AM"   "date" "Dec 1, 2026"
       "time"                   "10:42 AM"                 "ago"  "3 hours ago", "now"
     Every script that shows a time calls this (static/js/offline.js and connection.js too). */
  function when(value, style = "datetime") {
    if (value === null || value === undefined || value === "") return "";
    const d = value instanceof Date ? value : typeof value === "number" ? new Date(value * 1000) : new Date(value);
    if (isNaN(d)) return "";
    const lang = document.documentElement.lang || undefined;
    if (style === "date") return d.toLocaleDateString(lang, { dateStyle: "medium" });
    if (style === "time") return d.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
    if (style === "ago") {
      const secs = Math.round((d.getTime() - Date.now()) / 1000), abs = Math.abs(secs);
      const rtf = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
      if (abs < 60) return rtf.format(Math.min(-1, secs), "second");
      if (abs < 3600) return rtf.format(Math.round(secs / 60), "minute");
      if (abs < 86400) return rtf.format(Math.round(secs / 3600), "hour");
      return rtf.format(Math.round(secs / 86400), "day");
    }
    return d.toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
  }

  /* Every <time data-ts="ISO"> of the page, in the page's language and this device's time zone. */
  function localTimes(root) {
    for (const t of (root || document).querySelectorAll("time[data-ts]")) {
      const text = when(t.dataset.ts);
      if (text) t.textContent = text;
    }
  }

  function groupCode(code) {
    if (!code) return "";
    if (/^\d+$/.test(code) && (code.length === 6 || code.length === 8)) {
      const h = code.length / 2; return code.slice(0, h) + " " + code.slice(h);
    }
    if (/^\d{7}$/.test(code)) return code.slice(0, 3) + " " + code.slice(3);
    return code;
  }

  /* A first name for a new device (setup, add a device): the kind of phone or tablet, if known. */
  function deviceNameGuess() {
    const ua = navigator.userAgent;
    return /iPad/.test(ua) ? "iPad" : /iPhone/.test(ua) ? "iPhone" : /Android/.test(ua) ? "Android" : "";
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      const ta = document.createElement("textarea");   // older Safari, or clipboard not permitted
      ta.value = text; ta.setAttribute("readonly", ""); ta.style.position = "absolute"; ta.style.left = "-9999px";
      document.body.appendChild(ta); ta.select();
      const ok = document.execCommand && document.execCommand("copy");
      ta.remove();
      if (!ok) throw e;
    }
  }

  /* ---- small DOM helpers for result lists ------------------------------------------------------ */
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function labelOf(a) {
    return [a.issuer, a.name].filter(Boolean).join(" · ") || "—";
  }

  /* One row of a preview or result list: the name, then smaller lines under it. */
  function row(main, ...lines) {
    const li = el("li");
    const left = el("span", "row-main");
    left.appendChild(el("strong", "", main));
    for (const line of lines) {
      if (line) { left.appendChild(el("br")); left.appendChild(el("small", "hint", line)); }
    }
    li.appendChild(left);
    return li;
  }

  /* The entries that were not added, each with its reason. */
  function skippedRows(list, skipped) {
    list.innerHTML = "";
    for (const s of skipped) {
      const li = el("li", "skip");
      const left = el("span", "row-main");
      if (s.issuer || s.name) { left.appendChild(el("strong", "", labelOf(s))); left.appendChild(el("br")); }
      left.appendChild(el("small", "", s.reason));
      li.appendChild(left);
      list.appendChild(li);
    }
  }

  /* ---- locking ---------------------------------------------------------------------------------- */
  /* Every unlocked page locks itself after the idle time: it hides what it shows and goes to the
     unlock page (the server forgets the key after the same time without activity). */
  function idleLock() {
    const meta = document.querySelector('meta[name="idle-lock-seconds"]');
    if (!meta) return;
    const limit = parseInt(meta.content, 10) * 1000;
    let last = Date.now();
    for (const ev of ["pointerdown", "keydown", "scroll"]) addEventListener(ev, () => { last = Date.now(); }, { passive: true });
    const timer = setInterval(() => {
      if (Date.now() - last < limit) return;
      clearInterval(timer);
      document.querySelector("main").innerHTML = "";
      lockPage();
    }, 1000);
  }

  /* GET /api/backup?check=1, once per visit: the list's banner and the backup mark both read it
     (it asks the backup account, a round trip to another server). A failed check is asked again. */
  let backupCheck = null;
  function checkBackup() {
    if (!backupCheck) backupCheck = api("GET", "/api/backup?check=1").catch((e) => { backupCheck = null; throw e; });
    return backupCheck;
  }

  /* Lock now: the page's calls in flight first, then the server, then the unlock page. The
     signal stays aborted until the page is gone, so a call started meanwhile (a code refresh due
     while the lock is on its way) is cancelled at once instead of reaching a locked server. */
  async function lockPage() {
    calls.abort();
    backupCheck = null;
    try {
      await fetch("/api/lock", { method: "POST", credentials: "same-origin",
                                 headers: { "X-CSRFToken": csrf(), Accept: "application/json" } });
    } catch (e) { /* unreachable: the unlock page says so */ } finally { location.href = "/"; }
  }

  function wireLock() {
    for (const id of ["lock-btn", "lock-now"]) {
      const b = document.getElementById(id);
      if (b) b.addEventListener("click", lockPage);
    }
  }

  /* ---- after an unlock: the list without loading the page again -------------------------------
     The unlock page asks for "/" (now the list: about 2 KB compressed), swaps in its header and
     main, adds the few styles and scripts it lacks (from the browser's cache) and runs the list.
     The styles, scripts and their compiled code of this page stay. Any trouble: load the page. */
  function loadInto(parent, el) {
    const tag = el.tagName.toLowerCase();
    const fresh = document.createElement(tag);
    for (const { name, value } of el.attributes) fresh.setAttribute(name, value);
    if (tag !== "script") { parent.appendChild(fresh); return Promise.resolve(); }
    return new Promise((resolve, reject) => {
      fresh.onload = resolve; fresh.onerror = reject;
      fresh.async = false;
      parent.appendChild(fresh);
    });
  }

  async function showUnlocked() {
    try {
      const resp = await fetch("/", { credentials: "same-origin", headers: { Accept: "text/html" } });
      const arrivedAt = Date.now() / 1000;   // the server read its clock just before this
      if (!resp.ok) throw new Error(String(resp.status));
      const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
      if (doc.body.dataset.page !== "list") throw new Error("not the list");
      for (const name of ["csrf-token", "idle-lock-seconds"]) {
        const meta = doc.querySelector(`meta[name="${name}"]`);
        const here = document.querySelector(`meta[name="${name}"]`);
        if (meta && here) here.content = meta.content;
        else if (meta) document.head.appendChild(document.importNode(meta));
      }
      const have = new Set([...document.querySelectorAll("script[src], link[rel=stylesheet]")]
        .map((e) => e.getAttribute("src") || e.getAttribute("href")));
      for (const el of doc.head.querySelectorAll("link[rel=stylesheet], script[src]")) {
        if (!have.has(el.getAttribute("src") || el.getAttribute("href"))) await loadInto(document.head, el);
      }
      document.title = doc.title;
      document.querySelector("header.bar").replaceWith(document.importNode(doc.querySelector("header.bar"), true));
      const main = document.importNode(doc.querySelector("main"), true);
      const later = [...main.querySelectorAll("script[src], link[rel=stylesheet]")];
      for (const el of later) el.remove();
      document.querySelector("main").replaceWith(main);
      // the first rows may come drawn by the server (authvault/web/list_rows.py) for its layout
      document.body.classList.toggle("compact", doc.body.classList.contains("compact"));
      if (doc.documentElement.classList.contains("hotp-pending")) document.documentElement.classList.add("hotp-pending");
      for (const block of main.querySelectorAll('script[type="application/json"].i18n')) Object.assign(T, JSON.parse(block.textContent));
      document.body.dataset.page = "list";
      for (const el of later) {
        if (!have.has(el.getAttribute("src") || el.getAttribute("href"))) await loadInto(document.head, el);
      }
      wireLock();
      idleLock();
      window.AuthVault.pages.list(undefined, arrivedAt);
      if (window.AuthVault.connection && window.AuthVault.connection.nowUnlocked) window.AuthVault.connection.nowUnlocked();
    } catch (e) {
      location.href = "/";
    }
  }

  window.AuthVault = Object.assign(window.AuthVault || {}, {
    T, api, callSignal, checkBackup, toast, busy, fill, when, localTimes, formJSON, showError, groupCode, copyText, deviceNameGuess,
    el, labelOf, row, skippedRows, showUnlocked, pages: {},
  });

  document.addEventListener("DOMContentLoaded", () => {
    try {
      wireLock();
      idleLock();
      const run = window.AuthVault.pages[document.body.dataset.page];
      if (run) run();
    } finally {
      // Submit buttons come disabled in the HTML: sent before the scripts ran, a form would go
      // to the server without the page's handling (or hang on a slow phone). Wired now: enable.
      for (const b of document.querySelectorAll("button[data-wait-script]")) b.disabled = false;
    }
  });
})();
