/* On every page the server renders: the service worker, the offline copy kept current, and the
   banner that says when the server cannot be reached.

   - registers /sw.js (the installable app; offline, a failed navigation gets the shell page);
   - deletes the offline copy when this browser is no device any more (removed, signed out) or is
     another device than the copy's;
   - while unlocked: reports HOTP counters used offline (the server keeps the larger counter), then
     refreshes the copy (GET /api/offline-copy?have=GENERATION; turned off in Settings: deleted);
   - AuthVault.connection.failed(retry) / .ok(): the list calls these when a refresh fails or works. */
import { deleteCopy, loadCopy, saveCopy, setHotpPending, updateCopy } from "./offline-store.js";

const T = window.AuthVault.T;   // static/js/core.js: the one dictionary (keys offline_*, templates/offline/_i18n.html)
const meta = (name) => { const m = document.querySelector(`meta[name="${name}"]`); return m ? m.content : null; };
const csrf = () => meta("csrf-token") || "";
const deviceId = meta("offline-device");
let unlocked = meta("idle-lock-seconds") !== null;   // or later, by an unlock in place (nowUnlocked)

if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/sw.js", { scope: "/", updateViaCache: "none" }).catch(() => {});
}

async function getJSON(url, options) {
  const AV = window.AuthVault;                     // core.js cancels these too when the page locks
  const resp = await fetch(url, Object.assign({ credentials: "same-origin", cache: "no-store",
    signal: AV && AV.callSignal ? AV.callSignal() : undefined,
    headers: { Accept: "application/json", "X-CSRFToken": csrf(), "Content-Type": "application/json",
               "X-AuthVault-Idle": "1" } }, options || {}));
  if (!resp.ok) { const e = new Error("HTTP " + resp.status); e.status = resp.status; throw e; }
  return resp.json();
}

/* Report HOTP counters shown offline; true if the server took them (or there were none). */
async function reportHotp(copy) {
  const used = copy && copy.hotp_used;
  if (!used || !Object.keys(used).length) { setHotpPending(false); return false; }
  const res = await getJSON("/api/offline-copy/hotp", { method: "POST", body: JSON.stringify({ used }) });
  await updateCopy((rec) => {
    for (const [id, counter] of Object.entries(res.counters || {})) {
      if ((rec.hotp_used || {})[id] <= counter) delete rec.hotp_used[id];
    }
    for (const id of res.ignored || []) delete rec.hotp_used[id];
    return rec;
  });
  setHotpPending(false);
  return true;
}

let syncing = null;
/* Bring the offline copy up to date with the server (only while unlocked). */
const capable = window.isSecureContext && !!(globalThis.crypto && crypto.subtle) && "indexedDB" in globalThis;

async function sync() {
  if (!unlocked || !deviceId || !capable) return;   // no secure context: no offline view could open it
  if (syncing) return syncing;
  syncing = (async () => {
    try {
      let copy = await loadCopy();
      if (copy && copy.device_id !== deviceId) { await deleteCopy(); copy = null; }
      const reported = await reportHotp(copy);
      if (reported) copy = await loadCopy();          // the counters the server took are cleared
      const sent = Date.now();
      const have = copy && !reported ? "?have=" + encodeURIComponent(copy.generation) : "";
      const res = await getJSON("/api/offline-copy" + have);
      const offset = res.server_time - (sent + Date.now()) / 2000;   // the middle of the round trip
      if (!res.enabled) { await deleteCopy(); return; }
      const record = Object.assign({}, copy || {}, {
        device_id: res.device_id, generation: res.generation, prf_salt: res.prf_salt, rp_id: res.rp_id,
        lock_minutes: res.lock_minutes, offset, offset_at: Date.now(), saved_at: Date.now(),
        hotp_used: (copy && copy.hotp_used) || {} });
      if (!res.unchanged) record.envelope = res.envelope;
      if (!record.envelope) return;
      await saveCopy(record);
      // the list was painted with its HOTP codes hidden (list.js, hotpGuard): show the server's new ones
      if (reported && document.documentElement.classList.contains("hotp-pending")) location.reload();
    } catch (e) { /* offline or locked: the copy stays as it is */ }
    finally { syncing = null; }
  })();
  return syncing;
}

/* ---- the banner -------------------------------------------------------------------------------- */
let since = null, retryTimer = null, retryFn = null;

const clock = (date) => window.AuthVault.when(date, "time");   // static/js/core.js, loaded before this

async function showBanner() {
  let el = document.getElementById("conn-banner");
  if (!el) {
    el = document.createElement("div");
    el.id = "conn-banner"; el.className = "conn-banner"; el.setAttribute("role", "alert");
    el.innerHTML = '<p class="conn-title"><strong></strong> · <button type="button" class="link conn-retry"></button></p>'
      + '<p class="conn-hint"></p><p class="conn-offline" hidden><a class="btn primary" href="/offline"></a></p>';
    el.querySelector(".conn-retry").textContent = T.offline_retry;
    el.querySelector(".conn-offline a").textContent = T.offline_unlock_offline;
    el.querySelector(".conn-offline a").addEventListener("click", (ev) => { ev.currentTarget.href = "/offline?since=" + (since ? since.getTime() : Date.now()); });
    el.querySelector(".conn-retry").addEventListener("click", () => { if (retryFn) retryFn(); });
    (document.querySelector("main") || document.body).prepend(el);
  }
  el.querySelector("strong").textContent = T.offline_unreachable_since.replace("{time}", clock(since));
  const copy = await loadCopy();
  const canOffline = !!(copy && copy.envelope && copy.device_id === deviceId);
  el.querySelector(".conn-hint").textContent = canOffline ? T.offline_still_works : T.offline_no_copy_hint;
  el.querySelector(".conn-offline").hidden = !canOffline;
  el.hidden = false;
}

const connection = {
  /* A refresh failed because the server did not answer: say so, keep retrying. */
  failed(retry) {
    retryFn = retry || retryFn;
    if (!since) since = new Date();
    document.documentElement.classList.add("server-unreachable");
    showBanner();
    if (!retryTimer && retryFn) retryTimer = setInterval(() => retryFn(), 15000);
  },
  /* The server answered again. */
  ok() {
    if (!since) return;
    since = null;
    clearInterval(retryTimer); retryTimer = null;
    document.documentElement.classList.remove("server-unreachable");
    const el = document.getElementById("conn-banner");
    if (el) el.hidden = true;
    sync();
  },
  get unreachable() { return since !== null; },
  sync,
  /* The page was unlocked in place (core.js showUnlocked): keep the copy current from now on. */
  nowUnlocked() {
    if (unlocked) return;
    unlocked = true;
    sync();
    setInterval(() => { if (!connection.unreachable) sync(); }, 60000);
  },
};

/* Settings › This device: "Keep an offline copy on this device". */
function wireSetting() {
  const box = document.getElementById("offline-copy-toggle");
  if (!box) return;
  const can = capable && "serviceWorker" in navigator;
  document.getElementById("offline-copy-unavailable").hidden = can;
  if (!can) { box.checked = false; return; }
  box.disabled = false;
  const state = document.getElementById("offline-copy-state");
  box.addEventListener("change", async () => {
    box.disabled = true;
    try {
      await getJSON("/api/offline-copy", { method: "PATCH", body: JSON.stringify({ enabled: box.checked }) });
      if (box.checked) { await sync(); state.textContent = T.offline_copy_kept; }
      else { await deleteCopy(); state.textContent = T.offline_copy_deleted; }
    } catch (e) { box.checked = !box.checked; state.textContent = T.offline_unreachable; }
    finally { box.disabled = false; }
  });
}

window.AuthVaultConnection = connection;
if (window.AuthVault) window.AuthVault.connection = connection;

wireSetting();
(async () => {
  if (deviceId === "") { await deleteCopy(); return; }   // no device here any more: nothing kept
  await sync();
  // a page left open (an import, a backup page) still keeps the copy current: a cheap "unchanged?"
  if (unlocked) setInterval(() => { if (!connection.unreachable) sync(); }, 60000);
})();
