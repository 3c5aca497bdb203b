/* AuthVault pages: no framework, no build step. Each page is chosen by <body data-page>. */
"use strict";

const { T, api, toast, busy, formJSON, showError, groupCode, copyText } = window.AuthVault;   // static/js/core.js

/* ---- the account list: codes flip exactly on time, by the server's clock ---------------------- */
// This device's clock (seconds) when the first byte of this page arrived: the server read its
// clock for the page shortly before that, so a countdown built on it is never early, only late by
// the server's own time for the page (milliseconds). Where navigation timing is missing (or the
// page came from a cache), the moment the script runs.
function pageArrivalTime() {
  const nav = performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
  if (nav && nav.responseStart > 0 && performance.timeOrigin) {
    const at = performance.timeOrigin + nav.responseStart;
    if (at <= Date.now() && Date.now() - at < 60000) return at / 1000;
  }
  return Date.now() / 1000;
}

function listPage() {
  const data = JSON.parse(document.getElementById("codes-data").textContent);
  // Server clock minus this device's clock, from when the page arrived, not from when this script
  // runs, which can be much later on a busy phone and would make every flip late by that much.
  let offset = data.server_time - pageArrivalTime();
  const state = new Map();                                  // id -> {boundary, period, code, next}
  let fetching = false;
  let activeSinceFetch = false;
  for (const ev of ["pointerdown", "keydown", "scroll"]) {
    addEventListener(ev, () => { activeSinceFetch = true; }, { passive: true });
  }

  function remember(accounts, serverTime) {
    for (const a of accounts) {
      if (a.type === "hotp" || a.action_required || !a.period) continue;
      // the boundary from the server time itself: "remaining" is rounded up to whole seconds
      const boundary = (Math.floor(serverTime / a.period) + 1) * a.period;
      state.set(a.id, { boundary, period: a.period, code: a.code, next: a.next_code });
    }
  }
  remember(data.accounts, data.server_time);

  function render(li, code, next) {
    const btn = li.querySelector(".code");
    if (btn) { btn.textContent = groupCode(code); btn.dataset.code = code; }
    const n = li.querySelector(".next-code");
    if (n) n.textContent = groupCode(next);
    const nextBox = li.querySelector(".next");
    if (nextBox) nextBox.hidden = !next;
    li.classList.remove("no-code");
  }

  // The server could not be reached in time for this code: no code shown, no countdown, nothing to copy.
  function noCode(li) {
    const btn = li.querySelector(".code");
    if (btn) { btn.textContent = "—"; delete btn.dataset.code; }
    li.classList.add("no-code");
  }
  const connection = () => window.AuthVault.connection;

  async function refresh() {
    if (fetching) return;
    fetching = true;
    try {
      // A poll with no tap or key since the last one does not keep the device unlocked.
      const fresh = await api("GET", "/api/codes", undefined, activeSinceFetch ? {} : { "X-AuthVault-Idle": "1" });
      activeSinceFetch = false;
      offset = fresh.server_time - Date.now() / 1000;  // on arrival: never early, late by the trip
      remember(fresh.accounts, fresh.server_time);
      for (const a of fresh.accounts) {
        const li = document.querySelector(`.acct[data-id="${a.id}"]`);
        if (li && !a.action_required) render(li, a.code, a.next_code);
      }
      if (connection()) connection().ok();
    } catch (e) {
      if (e.status === 401) { location.href = "/"; return; }   // locked meanwhile (idle timeout)
      // no answer, or a proxy's 502/503/504: the server is out of reach (banner, retries)
      if ((!e.status || e.status >= 502) && connection()) connection().failed(refresh);
    } finally { fetching = false; }
  }

  function tick() {
    const now = Date.now() / 1000 + offset;
    let needFetch = false;
    for (const [id, s] of state) {
      const li = document.querySelector(`.acct[data-id="${id}"]`);
      if (!li) continue;
      if (now >= s.boundary) {                              // flip to the next code without a request
        const validUntil = s.boundary + s.period;           // the "next" code is good for one period
        s.code = s.next; s.next = null;
        if (s.code && now < validUntil) { s.boundary = validUntil; render(li, s.code, ""); }
        else {                                              // nothing fresh: never an old code, never a countdown over nothing
          s.code = null; s.boundary = (Math.floor(now / s.period) + 1) * s.period; noCode(li);
        }
        needFetch = true;
      }
      if (!s.code) continue;
      const left = Math.max(0, s.boundary - now);
      li.querySelector(".secs").textContent = Math.ceil(left);
      li.querySelector(".bar-fill").style.transform = `scaleX(${left / s.period})`;
      li.classList.toggle("ending", left <= 5);
    }
    if (needFetch) setTimeout(refresh, 300);
    // The countdown ticks every 250 ms; a flip due sooner gets a timer of its own, on the boundary.
    let soonest = Infinity;
    for (const s of state.values()) soonest = Math.min(soonest, s.boundary);
    const wait = (soonest - (Date.now() / 1000 + offset)) * 1000;
    if (wait < 250 && !flipTimer) flipTimer = setTimeout(() => { flipTimer = null; tick(); }, Math.max(0, wait) + 2);
  }
  let flipTimer = null;
  const list = document.getElementById("accounts");
  tick();
  setInterval(tick, 250);
  // Back from the background (phones freeze timers) or from the back-forward cache: fresh codes at once.
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  addEventListener("pageshow", (ev) => { if (ev.persisted) refresh(); });

  list.addEventListener("click", async (ev) => {
    const codeBtn = ev.target.closest(".code");
    if (codeBtn) {
      if (!codeBtn.dataset.code) { toast(T.network, 3500); return; }   // never "null" on the clipboard
      try { await copyText(codeBtn.dataset.code); toast(T.copied); } catch (e) { toast(T.copy_failed, 3000); }
      return;
    }
    const li = ev.target.closest(".acct");
    if (!li) return;
    if (ev.target.closest(".next-hotp")) {
      try {
        const a = await api("POST", `/api/accounts/${li.dataset.id}/next`);
        render(li, a.code, a.next_code);
        li.querySelector(".counter").textContent = "#" + a.counter;
        if (connection()) connection().sync();   // the offline copy must know this counter at once
      } catch (e) { toast(e.message, 3500); }
      return;
    }
    const up = ev.target.closest(".move-up"), down = ev.target.closest(".move-down");
    if (up || down) {
      const sib = up ? li.previousElementSibling : li.nextElementSibling;
      if (!sib) return;
      if (up) list.insertBefore(li, sib); else list.insertBefore(sib, li);
      const ids = [...list.querySelectorAll(".acct")].map((x) => x.dataset.id);
      try { await api("POST", "/api/accounts/order", { ids }); } catch (e) { toast(e.message, 3500); }
      (up ? li.querySelector(".move-up") : li.querySelector(".move-down")).focus();
    }
  });
  // Once per visit: is the backup still this device's? (told when another device took it over)
  api("GET", "/api/backup?check=1").then((st) => {
    if (["off", "on", "pending"].includes(st.state)) return;
    document.getElementById("backup-banner-text").textContent = st.error ? st.error.message : "";
    document.getElementById("backup-banner").hidden = false;
  }).catch(() => {});
  const reorder = document.getElementById("reorder-btn");
  if (reorder) reorder.addEventListener("click", () => {
    const on = list.classList.toggle("reordering");
    reorder.setAttribute("aria-pressed", String(on));
  });
}

/* ---- setup and unlock ------------------------------------------------------------------------ */
function strength(p) {
  if (p.length < 8) return 0;
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(p)).length;
  const words = p.trim().split(/\s+/).length;
  if (p.length >= 20 || words >= 4 || (p.length >= 14 && classes >= 3)) return 3;
  if (p.length >= 12 || classes >= 3) return 2;
  return 1;
}

function setupPage() {
  const form = document.getElementById("setup-form");
  const name = form.device_name;
  if (!name.value) {
    const ua = navigator.userAgent;
    name.value = /iPad/.test(ua) ? "iPad" : /iPhone/.test(ua) ? "iPhone" : /Android/.test(ua) ? "Android" : "";
  }
  const meter = document.getElementById("strength"), text = document.getElementById("strength-text");
  form.passphrase.addEventListener("input", () => {
    const s = strength(form.passphrase.value);
    meter.value = s;
    if (form.passphrase.value) text.textContent = [T.weak, T.weak, T.fair, T.strong][s];
  });
  // "How do you want to start?": a new vault, or restore a backup right after this device is made.
  const submit = form.querySelector("button[type=submit]");
  const restoring = () => form.elements.start && form.elements.start.value === "restore";
  for (const radio of form.querySelectorAll("input[name=start]")) {
    radio.addEventListener("change", () => { submit.textContent = restoring() ? submit.dataset.restore : submit.dataset.new; });
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    showError(form, "");
    if (form.passphrase.value !== form.passphrase2.value) { showError(form, T.mismatch); return; }
    busy(form, true);
    try {
      await api("POST", "/api/setup", { setup_token: form.setup_token.value, device_name: name.value,
                                        passphrase: form.passphrase.value });
      const next = restoring() ? "/backup/restore?first=1" : "/";
      if (window.AuthVault.afterSetup) await window.AuthVault.afterSetup();   // passkeys.js: offer a passkey
      location.href = next;
    } catch (e) { showError(form, e.message); busy(form, false); }
  });
}

function unlockPage() {
  const form = document.getElementById("unlock-form");
  if (!form) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    showError(form, "");
    busy(form, true);
    try {
      await api("POST", "/api/unlock", { passphrase: form.passphrase.value });
      location.href = "/";
    } catch (e) { showError(form, e.message); busy(form, false); form.passphrase.select(); }
  });
}

/* ---- add accounts ---------------------------------------------------------------------------- */
function showResult(res) {
  const box = document.getElementById("result");
  box.innerHTML = "";
  const card = document.createElement("section");
  card.className = "card";
  const add = (cls, title, items, fmt) => {
    if (!items.length) return;
    const h = document.createElement("h2"); h.className = cls; h.textContent = `${title} (${items.length})`;
    const ul = document.createElement("ul");
    for (const it of items) { const li = document.createElement("li"); li.textContent = fmt(it); ul.appendChild(li); }
    card.append(h, ul);
  };
  const label = (a) => [a.issuer, a.name].filter(Boolean).join(" · ") || "—";
  add("ok", T.added, res.added, label);
  add("skip", T.skipped, res.skipped, (s) => (s.issuer || s.name ? label(s) + ": " : "") + s.reason);
  box.appendChild(card);
  box.scrollIntoView({ behavior: "smooth", block: "start" });
}

function showFailure(message) {
  const box = document.getElementById("result");
  box.innerHTML = "";
  const p = document.createElement("p"); p.className = "card error"; p.setAttribute("role", "alert"); p.textContent = message;
  box.appendChild(p);
  box.scrollIntoView({ behavior: "smooth", block: "start" });
}

function addPage() {
  const file = document.getElementById("file");
  async function upload() {
    if (!file.files.length) return;
    const fd = new FormData(); fd.append("file", file.files[0]);
    toast(T.working, 10000);
    try { showResult(await api("POST", "/api/accounts/scan", fd)); toast(T.saved); }
    catch (e) { showFailure(e.message); toast(""); document.getElementById("toast").classList.remove("show"); }
    file.value = "";
  }
  file.addEventListener("change", upload);
  upload();  // an image picked before this script ran (a slow phone) had no listener to tell
  const uriForm = document.getElementById("uri-form");
  uriForm.addEventListener("submit", async (ev) => {
    ev.preventDefault(); busy(uriForm, true);
    try { showResult(await api("POST", "/api/accounts", { uri: uriForm.uri.value })); uriForm.reset(); }
    catch (e) { showFailure(e.message); }
    busy(uriForm, false);
  });
  const manual = document.getElementById("manual-form");
  manual.type.addEventListener("change", () => { if (manual.type.value === "steam") manual.digits.value = 5; });
  manual.addEventListener("submit", async (ev) => {
    ev.preventDefault(); busy(manual, true);
    const body = formJSON(manual);
    try { showResult(await api("POST", "/api/accounts", body)); manual.reset(); }
    catch (e) { showFailure(e.message); }
    busy(manual, false);
  });
}

/* ---- edit one account ------------------------------------------------------------------------ */
function editPage() {
  const form = document.getElementById("edit-form");
  const id = form.dataset.id;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault(); showError(form, ""); busy(form, true);
    try {
      await api("PATCH", `/api/accounts/${id}`, { issuer: form.issuer.value, name: form.name.value, note: form.note.value,
        backup_policy: form.device_only.checked ? "this-device-only" : "backup" });
      location.href = "/";
    } catch (e) { showError(form, e.message); busy(form, false); }
  });
  document.getElementById("delete-btn").addEventListener("click", async () => {
    if (!confirm(T.delete_confirm.replace("{label}", "“" + form.dataset.label + "”"))) return;
    try { await api("DELETE", `/api/accounts/${id}`); location.href = "/"; }
    catch (e) { showError(form, e.message); }
  });
}

function settingsPage() {
  const form = document.getElementById("settings-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault(); showError(form, ""); busy(form, true);
    try {
      await api("PATCH", "/api/settings", { lock_minutes: parseInt(form.lock_minutes.value, 10), language: form.language.value });
      location.reload();
    } catch (e) { showError(form, e.message); busy(form, false); }
  });
}

Object.assign(window.AuthVault.pages, {
  list: listPage, setup: setupPage, unlock: unlockPage, add: addPage, edit: editPage, settings: settingsPage });
