/* The offline view (the shell page /offline, which the service worker also serves for any page
   when the server cannot be reached): unlock this device's offline copy with the passkey (PRF)
   or the passphrase, show the codes computed here, lock exactly as online, and hand back to the
   server when it answers again.

   The key lives only in this page's memory (non-extractable CryptoKeys); locking drops it. */
import * as V from "./offline-vault.js";
import { deleteCopy, loadCopy, setHotpPending, updateCopy } from "./offline-store.js";

const T = window.AuthVault.T;   // static/js/core.js: the one dictionary (keys offline_*, templates/offline/_i18n.html)
const $ = (id) => document.getElementById(id);
// static/js/core.js (the shell loads it, deferred, before this module): toasts, code grouping,
// copying and the one date formatter, as on the online pages.
const AV = window.AuthVault;
const { toast, copyText } = AV;
const PROBE_MS = 10000;
const OLD_COPY_MS = 7 * 24 * 3600 * 1000;
const LARGE_OFFSET_S = 30;

let copy = null;            // the IndexedDB record (envelope + metadata)
let accounts = null;        // unlocked: [{..., key: CryptoKey}]; null when locked
let since = null;           // when the server was first found out of reach
let serverState = null;     // null (unreachable), "locked", "unlocked"
let tickTimer = null, lastActive = Date.now(), hiddenAt = null;

const fmtTime = (d) => AV.when(d, "time");
const fmtDate = (ms) => AV.when(new Date(ms));
function message(err) {
  if (err && err.code && T["offline_" + err.code]) return T["offline_" + err.code];
  return T.offline_vault_damaged;
}

/* ---- the server: reachable or not --------------------------------------------------------- */
async function probe() {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), 4000);
  try {
    const resp = await fetch("/api/session", { cache: "no-store", credentials: "same-origin", signal: ctrl.signal,
                                               headers: { Accept: "application/json", "X-AuthVault-Idle": "1" } });
    if (resp.status >= 502) return null;
    const data = await resp.json();
    if (!data.device) return "gone";
    return data.state === "unlocked" ? "unlocked" : "locked";
  } catch (e) { return null; } finally { clearTimeout(timer); }
}

function showBanner() {
  const banner = $("offline-banner");
  banner.hidden = false;
  banner.classList.toggle("ok", serverState !== null);
  if (serverState === null) {
    $("offline-reach").textContent = T.offline_unreachable_since.replace("{time}", fmtTime(since));
    $("offline-retry-box").hidden = false;
    $("offline-hint").textContent = accounts ? T.offline_showing_offline : (copy ? T.offline_still_works : T.offline_no_copy_hint);
    $("offline-online-box").hidden = true;
  } else {
    $("offline-reach").textContent = T.offline_back_unlocked;
    $("offline-retry-box").hidden = true;
    $("offline-hint").textContent = T.offline_back_locked;
    $("offline-online-box").hidden = false;
  }
}

async function check() {
  const state = await probe();
  if (state === "gone") { await lock(); await deleteCopy(); location.replace("/"); return; }
  if (state === "unlocked" || (state === "locked" && !accounts)) {
    // the server's own page is better: the list (unlocked), or its unlock page (nothing open here)
    await lock(); location.replace("/"); return;
  }
  serverState = state;                 // null: still out of reach; "locked": offline view stays
  if (state === null && !since) since = new Date();
  showBanner();
}

/* ---- unlocking -------------------------------------------------------------------------------- */
function working(text) {
  $("offline-working").hidden = !text; $("offline-working").textContent = text || "";
  AV.busy($("offline-form"), !!text);
}

async function opened(db) {
  accounts = await V.accountsFromDb(db);
  $("offline-passphrase").value = "";
  $("offline-form").hidden = true;
  $("offline-view").hidden = false;
  $("offline-lock").hidden = false;
  lastActive = Date.now();
  await render();
  tickTimer = setInterval(tick, 250);
  showBanner();
}

async function unlockPassphrase(ev) {
  ev.preventDefault();
  $("offline-error").textContent = "";
  const pass = $("offline-passphrase").value;
  if (!pass) return;
  working(T.offline_working);
  try { await opened(await V.openWithPassphrase(copy.envelope, pass, copy.device_id)); }
  catch (e) { $("offline-error").textContent = message(e); $("offline-passphrase").select(); }
  finally { working(null); }
}

async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)); }

async function unlockPasskey() {
  $("offline-error").textContent = "";
  const ids = V.offlineSlots(copy.envelope).passkeys;
  const rpId = copy.rp_id || location.hostname;
  let cred;
  try {
    cred = await navigator.credentials.get({ publicKey: {
      challenge: crypto.getRandomValues(new Uint8Array(32)), rpId, timeout: 120000, userVerification: "required",
      allowCredentials: ids.map((id) => ({ type: "public-key", id: V.b64urlToBytes(id) })),
      extensions: { prf: { eval: { first: V.b64urlToBytes(copy.prf_salt) } } } } });
  } catch (e) { $("offline-error").textContent = T.offline_passkey_failed; return; }
  working(T.offline_working);
  try {
    const auth = new Uint8Array(cred.response.authenticatorData);
    const rpHash = await sha256(new TextEncoder().encode(rpId));
    if (auth.length < 37 || rpHash.some((b, i) => b !== auth[i])) throw new V.VaultError("wrong_passkey");
    if (!(auth[32] & 0x04)) { $("offline-error").textContent = T.offline_uv_missing; return; }   // UV flag
    const ext = cred.getClientExtensionResults();
    const first = ext && ext.prf && ext.prf.results && ext.prf.results.first;
    if (!first) { $("offline-error").textContent = T.offline_passphrase_only; return; }
    const prf = new Uint8Array(first);
    try { await opened(await V.openWithPrf(copy.envelope, cred.id, prf, copy.device_id)); } finally { prf.fill(0); }
  } catch (e) { $("offline-error").textContent = message(e); }
  finally { working(null); }
}

async function showUnlock() {
  $("offline-checking").hidden = true;
  if (!copy || !copy.envelope) {
    $("offline-none").hidden = false; $("offline-none-text").textContent = T.offline_no_copy; return;
  }
  let slots;
  try { slots = V.offlineSlots(copy.envelope); }
  catch (e) { $("offline-none").hidden = false; $("offline-none-text").textContent = message(e); return; }
  $("offline-form").hidden = false;
  $("offline-lead").textContent = T.offline_offline_lead;
  const canPasskey = slots.passkeys.length > 0 && !!window.PublicKeyCredential && !!copy.prf_salt;
  $("offline-passkey").hidden = !canPasskey;
  $("offline-passkey-note").hidden = canPasskey;
  $("offline-passkey-note").textContent = T.offline_passphrase_only;
  if (!canPasskey) $("offline-passphrase").focus();
}

/* ---- the list ----------------------------------------------------------------------------------- */
const now = () => Date.now() / 1000 + ((copy && copy.offset) || 0);
const usedCounter = (acc) => Math.max(acc.counter, ((copy && copy.hotp_used) || {})[acc.id] || 0);

let boundaries = new Map();   // id -> the time its code changes
let listView = null;          // the rows, drawn by static/js/list.js (renderList); null while locked
const viewOf = (acc, t) => V.accountView(acc.type === "hotp" ? Object.assign({}, acc, { counter: usedCounter(acc) }) : acc, t);

let nextFlip = Infinity;      // the soonest of the boundaries: until then a tick only moves the countdown
function setBoundary(acc, t) {
  const b = (Math.floor(t / acc.period) + 1) * acc.period;
  boundaries.set(acc.id, b);
  if (b < nextFlip) nextFlip = b;
}

/* The codes of these accounts at time t, into the list's rows (static/js/list.js draws the rows). */
async function fillRows(accs, t) {
  const views = await Promise.all(accs.map((acc) => viewOf(acc, t)));
  if (!accounts) return;      // locked while computing
  for (const acc of accs) if (acc.type !== "hotp") setBoundary(acc, t);
  if (listView) listView.setCodes(views);
}
const fillRow = (acc, t) => fillRows([acc], t);

async function render() {
  const list = $("accounts");
  list.textContent = "";
  boundaries = new Map();
  nextFlip = Infinity;
  listView = null;
  const t = now();
  const views = [];
  for (const acc of accounts) views.push(await viewOf(acc, t));
  if (!accounts) return;
  // The list's own renderer (static/js/list.js, in the shell with core.js), so the offline list looks
  // and searches like the online one, with this browser's choices (layout, next code, hidden codes, order).
  const p = AV.list.prefs ? AV.list.prefs() : {};
  document.body.classList.toggle("compact", !!p.compact);
  listView = AV.list.renderList(list, views, { sprite: $("offline-view").dataset.sprite, showNext: !!p.showNext,
                                               hideCodes: !!p.hideCodes, revealed: new Set(), sort: p.sort || "manual",
                                               query: $("offline-search").value });
  list.dataset.started = "1";                 // as the online list marks itself (tests wait for it)
  for (const acc of accounts) if (acc.type !== "hotp" && !acc.action_required) setBoundary(acc, t);
  status();
  tick();
}

function status() {
  const parts = [T.offline_copy_age.replace("{date}", fmtDate(copy.saved_at))];
  let warn = false;
  if (Date.now() - copy.saved_at > OLD_COPY_MS) { parts[0] = T.offline_copy_old.replace("{date}", fmtDate(copy.saved_at)); warn = true; }
  if (Math.abs(copy.offset || 0) > LARGE_OFFSET_S) {
    parts.push(T.offline_clock_large.replace("{seconds}", String(Math.round(Math.abs(copy.offset))))); warn = true;
  }
  if (Date.now() - (copy.offset_at || 0) > OLD_COPY_MS) { parts.push(T.offline_clock_old.replace("{date}", fmtDate(copy.offset_at || 0))); warn = true; }
  $("offline-status").textContent = parts.join(" ");
  $("offline-status").classList.toggle("warn", warn);
  const hasHotp = accounts.some((a) => a.type === "hotp");
  $("offline-readonly").textContent = T.offline_readonly + (hasHotp ? " " + T.offline_hotp_offline : "");
}

/* Four times a second: the countdown (drawn by the list on the rows near the screen only), and,
   once a period ends, the new codes: the rows near the screen first, the others after, a batch
   per task. Between code changes a tick looks at no row and computes no code (at 1000 accounts,
   looking every row up on each tick took a slow phone a third of its time). */
const FLIP_BATCH = 100;
let flipping = false;
async function tick() {
  if (!accounts) return;
  const lock = (copy.lock_minutes || 5) * 60000;
  if (Date.now() - lastActive >= lock) { await lockNow(); return; }
  const t = now();
  if (listView) listView.tick(t);
  if (flipping) return;
  if (t < nextFlip) { onTime(t); return; }
  const due = [];
  nextFlip = Infinity;
  for (const acc of accounts) {
    const b = boundaries.get(acc.id);
    if (b === undefined) continue;
    if (t >= b) due.push(acc); else if (b < nextFlip) nextFlip = b;
  }
  const view = listView;
  const near = view && view.near ? due.filter((acc) => view.near(acc.id)) : due;
  const rest = near === due ? [] : due.filter((acc) => !view.near(acc.id));
  flipping = true;
  try {
    await fillRows(near, now());
    for (let i = 0; i < rest.length; i += FLIP_BATCH) {
      await new Promise((ok) => setTimeout(ok, 0));
      if (!accounts || listView !== view) return;     // locked or drawn again meanwhile
      await fillRows(rest.slice(i, i + FLIP_BATCH), now());
    }
  } finally { flipping = false; }
  onTime(now());
}
/* A period ending before the next tick: a tick then, so the code changes as its ring runs out. */
let flipTimer = null;
function onTime(t) {
  const wait = (nextFlip - t) * 1000;
  if (wait < 250 && !flipTimer && accounts) flipTimer = setTimeout(() => { flipTimer = null; tick(); }, Math.max(0, wait) + 2);
}

/* HOTP offline: the next counter is written to the copy's metadata before its code is shown, so a
   counter value is never shown twice (reload, another tab); the server takes the larger counter
   when this device is back (static/js/connection.js). */
async function nextHotp(li) {
  const acc = accounts.find((a) => a.id === li.dataset.id);
  if (!acc) return;
  const rec = await updateCopy((r) => {
    r.hotp_used = r.hotp_used || {};
    r.hotp_used[acc.id] = Math.max(acc.counter, r.hotp_used[acc.id] || 0) + 1;
    return r;
  });
  setHotpPending(true);
  if (rec) copy.hotp_used = rec.hotp_used;
  await fillRow(acc, now());
}

async function lockNow() {
  await lock();
  await showUnlock();
  showBanner();
}

/* Drop the key and everything decrypted (the same as the online lock). */
async function lock() {
  accounts = null;
  listView = null;
  $("offline-search").value = "";
  clearInterval(tickTimer); tickTimer = null;
  clearTimeout(flipTimer); flipTimer = null;
  boundaries = new Map();
  nextFlip = Infinity;
  $("accounts").textContent = "";
  $("offline-status").textContent = "";
  $("offline-view").hidden = true;
  $("offline-lock").hidden = true;
}

function wire() {
  $("offline-form").addEventListener("submit", unlockPassphrase);
  $("offline-passkey-btn").addEventListener("click", unlockPasskey);
  $("offline-lock").addEventListener("click", lockNow);
  $("offline-retry").addEventListener("click", check);
  $("offline-search").addEventListener("input", () => { if (listView) listView.filter($("offline-search").value, ""); });
  for (const ev of ["pointerdown", "keydown", "scroll"]) addEventListener(ev, () => { lastActive = Date.now(); }, { passive: true });
  // Hidden (another app, the screen off) or frozen by the browser: longer than the lock time locks.
  const away = () => { if (hiddenAt === null) hiddenAt = Date.now(); };
  const back = async () => {
    const gone = hiddenAt !== null ? Date.now() - hiddenAt : 0;
    hiddenAt = null;
    if (accounts && gone >= (copy.lock_minutes || 5) * 60000) await lockNow();
    else if (accounts) await render();
    check();
  };
  document.addEventListener("visibilitychange", () => (document.hidden ? away() : back()));
  document.addEventListener("freeze", away);
  document.addEventListener("resume", back);
  addEventListener("pagehide", () => { accounts = null; });
  $("accounts").addEventListener("click", async (ev) => {
    if (!accounts) return;
    const codeBtn = ev.target.closest(".code");
    if (codeBtn) {
      if (!codeBtn.dataset.code) return;
      try { await copyText(codeBtn.dataset.code); toast(T.offline_copied); } catch (e) { toast(T.offline_copy_failed, 3000); }
      return;
    }
    const next = ev.target.closest(".next-hotp");
    if (next) await nextHotp(next.closest(".acct"));
  });
}

async function start() {
  wire();
  if (!globalThis.crypto || !crypto.subtle || !("indexedDB" in globalThis)) {
    $("offline-checking").hidden = true; $("offline-none").hidden = false; $("offline-none-text").textContent = T.offline_no_crypto; return;
  }
  const sinceParam = Number(new URLSearchParams(location.search).get("since"));
  const state = await probe();
  if (state === "gone") { await deleteCopy(); location.replace("/"); return; }
  if (state !== null) { location.replace("/"); return; }
  since = sinceParam > 0 ? new Date(sinceParam) : new Date();
  copy = await loadCopy();
  await showUnlock();
  showBanner();
  setInterval(check, PROBE_MS);
}

window.AuthVaultOffline = { get unlocked() { return accounts !== null; }, lock: lockNow, check };
start();
