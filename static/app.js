/* AuthVault pages: no framework, no build step. Each page is chosen by <body data-page>. */
"use strict";

const { T, api, toast, busy, formJSON, showError, groupCode, copyText } = window.AuthVault;   // static/js/core.js

/* The account list is static/js/list.js (AuthVault.pages.list, AuthVault.list.renderList). */

/* ---- setup and unlock ------------------------------------------------------------------------ */
function strength(p) {
  if (p.length < 8) return 0;
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(p)).length;
  const words = p.trim().split(/\s+/).length;
  if (p.length >= 20 || words >= 4 || (p.length >= 14 && classes >= 3)) return 3;
  if (p.length >= 12 || classes >= 3) return 2;
  return 1;
}

/* Every strength meter on the page (templates/unlock/_strength.html) follows its passphrase field. */
function wireStrength() {
  for (const meter of document.querySelectorAll("meter.strength[data-for]")) {
    const input = document.getElementById(meter.dataset.for);
    const text = document.getElementById(meter.id + "-text");
    if (!input || !text) continue;
    const first = text.textContent;
    input.addEventListener("input", () => {
      const s = strength(input.value);
      meter.value = s;
      text.textContent = input.value ? [T.weak, T.weak, T.fair, T.strong][s] : first;
    });
  }
}
document.addEventListener("DOMContentLoaded", wireStrength);

function setupPage() {
  const form = document.getElementById("setup-form");
  const name = form.device_name;
  if (!name.value) {
    const ua = navigator.userAgent;
    name.value = /iPad/.test(ua) ? "iPad" : /iPhone/.test(ua) ? "iPhone" : /Android/.test(ua) ? "Android" : "";
  }
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
      await window.AuthVault.showUnlocked();   // the list in place: no second page load
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
  if (res.added.length) {
    const a = document.createElement("a"); a.className = "btn primary"; a.id = "show-added";
    a.href = "/?added=" + res.added.map((x) => x.id).join(","); a.textContent = T.show_in_list;
    card.appendChild(a);
  }
  box.appendChild(card);
  box.scrollIntoView({ behavior: "smooth", block: "start" });
}

/* After adding: everything was added -> back on the list, the new accounts marked there (the
   list's toast names them); anything skipped -> the result stays here, with its reasons. */
function afterAdd(res) {
  if (res.added.length && !res.skipped.length) {
    location.href = "/?added=" + res.added.map((x) => x.id).join(",");
    return;
  }
  showResult(res);
  const names = res.added.map((a) => a.issuer || a.name);
  toast(names.length === 1 ? T.added_label.replace("{label}", names[0])
        : names.length ? T.added_count.replace("{num}", names.length) : T.skipped, 3500);
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
    try { afterAdd(await api("POST", "/api/accounts/scan", fd)); }
    catch (e) { showFailure(e.message); toast(""); document.getElementById("toast").classList.remove("show"); }
    file.value = "";
  }
  file.addEventListener("change", upload);
  upload();  // an image picked before this script ran (a slow phone) had no listener to tell
  const uriForm = document.getElementById("uri-form");
  uriForm.addEventListener("submit", async (ev) => {
    ev.preventDefault(); busy(uriForm, true);
    try { afterAdd(await api("POST", "/api/accounts", { uri: uriForm.uri.value })); uriForm.reset(); }
    catch (e) { showFailure(e.message); }
    busy(uriForm, false);
  });
  const manual = document.getElementById("manual-form");
  manual.type.addEventListener("change", () => { if (manual.type.value === "steam") manual.digits.value = 5; });
  manual.addEventListener("submit", async (ev) => {
    ev.preventDefault(); busy(manual, true);
    const body = formJSON(manual);
    try { afterAdd(await api("POST", "/api/accounts", body)); manual.reset(); }
    catch (e) { showFailure(e.message); }
    busy(manual, false);
  });
}

/* ---- edit one account ------------------------------------------------------------------------ */
function editPage() {
  const form = document.getElementById("edit-form");
  const id = form.dataset.id;
  form.group.addEventListener("change", () => {
    form.new_group.hidden = form.group.value !== "__new__";
    if (!form.new_group.hidden) form.new_group.focus();
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault(); showError(form, ""); busy(form, true);
    try {
      const group = form.group.value === "__new__" ? form.new_group.value.trim() : form.group.value;
      await api("PATCH", `/api/accounts/${id}`, { issuer: form.issuer.value, name: form.name.value, note: form.note.value,
        backup_policy: form.device_only.checked ? "this-device-only" : "backup",
        group, favorite: form.favorite.checked, icon: form.icon.value || null });
      location.href = "/";
    } catch (e) { showError(form, e.message); busy(form, false); }
  });
  document.getElementById("delete-btn").addEventListener("click", async () => {
    if (!confirm(T.delete_confirm.replace("{label}", "“" + form.dataset.label + "”"))) return;
    try { await api("DELETE", `/api/accounts/${id}`); location.href = "/"; }
    catch (e) { showError(form, e.message); }
  });
}

/* Settings › This device: change the passphrase with the current one, or with one passkey prompt
   (the passkey unlock counts as re-auth for a minute, as for exports and removing a device). */
function passphraseForm() {
  const form = document.getElementById("passphrase-form");
  if (!form) return;
  const err = document.getElementById("passphrase-error"), done = document.getElementById("passphrase-done");
  const pkBtn = document.getElementById("passphrase-passkey");
  const fill = window.AuthVault.fill;
  let passkeyOk = false;
  const newOk = () => {
    if (form.new.value.length < 8) { err.textContent = T.pp_too_short; form.new.focus(); return false; }
    if (form.new.value !== form.new2.value) { err.textContent = T.mismatch; form.new2.focus(); return false; }
    return true;
  };
  async function change(current) {
    busy(form, true);
    try {
      const res = await api("POST", "/api/passphrase", { current, new: form.new.value });
      form.reset();
      form.new.dispatchEvent(new Event("input"));           // the meter and its words start over
      done.textContent = res.sessions_ended ? fill(T.pp_sessions_ended, { num: res.sessions_ended }) : T.pp_changed;
      done.hidden = false;
      done.scrollIntoView({ behavior: "smooth", block: "center" });
      toast(T.pp_toast, 3000);
      // The offline copy is the envelope as stored: take the one with the new slot now.
      const conn = window.AuthVault.connection;
      if (conn && conn.sync) await conn.sync();
    } catch (e) {
      err.textContent = e.message;
      if (e.code === "wrong_passphrase") form.current.select();
      if (e.status === 401 && e.code !== "wrong_passphrase" && e.code !== "reauth_required") location.href = "/";
    }
    busy(form, false);
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault(); err.textContent = ""; done.hidden = true;
    if (!form.current.value) { err.textContent = passkeyOk ? T.pp_current : T.pp_current_only; form.current.focus(); return; }
    if (!newOk()) return;
    await change(form.current.value);
  });
  const pk = window.AuthVault.passkeys;
  if (pk && window.PublicKeyCredential && window.isSecureContext) {
    pk.status().then((st) => {
      if (!st.available || !st.has_passkeys) return;
      passkeyOk = true;
      pkBtn.hidden = false;
      document.getElementById("passphrase-passkey-hint").hidden = false;
      pkBtn.addEventListener("click", async () => {
        err.textContent = ""; done.hidden = true;
        if (!newOk()) return;
        busy(form, true);
        try { await pk.unlock(st); } catch (e) { err.textContent = e.message; busy(form, false); return; }
        await change("");
      });
    }).catch(() => {});
  }
}

function settingsPage() {
  passphraseForm();
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
  setup: setupPage, unlock: unlockPage, add: addPage, edit: editPage, settings: settingsPage });
