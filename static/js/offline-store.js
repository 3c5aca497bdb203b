/* The offline copy in IndexedDB: one record, this device's envelope exactly as the server stores
   it, plus non-secret metadata. Nothing else is ever written by AuthVault to browser storage:

   { device_id, generation, envelope,            // as GET /api/offline-copy gave them
     prf_salt, rp_id, lock_minutes,              // for the offline passkey request and the idle lock
     offset, offset_at,                          // server clock minus this clock (s), when learned
     saved_at,                                   // when the copy was last refreshed (ms)
     hotp_used: {account id: counter} }          // HOTP counters shown offline, not yet reported */
const DB_NAME = "authvault-offline";
const STORE = "copy";
const KEY = "this-device";

function open() {
  return new Promise((resolve, reject) => {
    if (!("indexedDB" in globalThis)) { reject(new Error("no IndexedDB")); return; }
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function run(mode, fn) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const store = tx.objectStore(STORE);
      let result;
      const req = fn(store);
      if (req) req.onsuccess = () => { result = req.result; };
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally { db.close(); }
}

export async function loadCopy() {
  try { return (await run("readonly", (s) => s.get(KEY))) || null; } catch (e) { return null; }
}

export async function saveCopy(record) { await run("readwrite", (s) => s.put(record, KEY)); }

/* Change one record in one transaction (read, fn, write), so two tabs never lose a HOTP counter. */
export async function updateCopy(fn) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, "readwrite");
      const store = tx.objectStore(STORE);
      let out = null;
      const get = store.get(KEY);
      get.onsuccess = () => {
        if (!get.result) return;
        out = fn(get.result);
        store.put(out, KEY);
      };
      tx.oncomplete = () => resolve(out);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally { db.close(); }
}

export async function deleteCopy() {
  try { await run("readwrite", (s) => s.delete(KEY)); } catch (e) { /* no IndexedDB: nothing kept */ }
  try { localStorage.removeItem("authvault-hotp-pending"); } catch (e) { /* storage blocked */ }
  hotpPendingCookie(false);
}

/* HOTP counters used offline wait to be reported: the online list hides HOTP codes meanwhile
   (a flag, readable before the list is painted: static/js/list.js, hotpGuard). */
export function setHotpPending(on) {
  try {
    if (on) localStorage.setItem("authvault-hotp-pending", "1");
    else localStorage.removeItem("authvault-hotp-pending");
  } catch (e) { /* storage blocked */ }
  hotpPendingCookie(on);
}
// The same flag for the server, which draws the list's first rows (authvault/web/list_rows.py).
function hotpPendingCookie(on) {
  document.cookie = "authvault_hotp_pending=" + (on ? "1; Max-Age=31536000" : "; Max-Age=0") +
    "; Path=/; SameSite=Strict" + (location.protocol === "https:" ? "; Secure" : "");
}
