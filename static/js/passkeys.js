/* Passkeys in the browser: register, unlock, devices and passkeys settings, add a device, sign back in.
 *
 * The server speaks WebAuthn JSON (options as py_webauthn's options_to_json writes them; credentials as
 * PublicKeyCredential.toJSON() writes them). Where the browser lacks parse*OptionsFromJSON or toJSON
 * (older Safari), the small base64url helpers below do the same. The PRF extension asks the passkey for
 * a key derived from this device's salt; its result travels to the server only to unlock the vault.
 */
"use strict";
(function () {
  const AV = window.AuthVault;
  const P = AV.T;   // static/js/core.js: one dictionary

  /* ---- base64url <-> bytes -------------------------------------------------------------------- */
  function b64uToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    const bin = atob(s), out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64u(buf) {
    const bytes = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    let s = "";
    for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function toB64u(v) {
    if (typeof v === "string") return v;
    if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return bufToB64u(v);
    return v;
  }

  /* ---- JSON options -> WebAuthn options (native parser where there is one) -------------------- */
  function creationOptions(json) {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    const o = Object.assign({}, json);
    o.challenge = b64uToBuf(json.challenge);
    o.user = Object.assign({}, json.user, { id: b64uToBuf(json.user.id) });
    o.excludeCredentials = (json.excludeCredentials || []).map((c) => Object.assign({}, c, { id: b64uToBuf(c.id) }));
    return o;
  }
  function requestOptions(json) {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    const o = Object.assign({}, json);
    o.challenge = b64uToBuf(json.challenge);
    o.allowCredentials = (json.allowCredentials || []).map((c) => Object.assign({}, c, { id: b64uToBuf(c.id) }));
    return o;
  }
  function withPrf(options, salt) {
    if (salt) options.extensions = Object.assign({}, options.extensions || {}, { prf: { eval: { first: b64uToBuf(salt) } } });
    return options;
  }

  /* ---- credential -> JSON (toJSON where there is one), PRF results as base64url ---------------- */
  function extensionResults(cred) {
    const ext = typeof cred.getClientExtensionResults === "function" ? cred.getClientExtensionResults() : {};
    const out = {};
    if (ext && ext.prf) {
      out.prf = {};
      if (typeof ext.prf.enabled === "boolean") out.prf.enabled = ext.prf.enabled;
      if (ext.prf.results && ext.prf.results.first) out.prf.results = { first: toB64u(ext.prf.results.first) };
    }
    if (ext && ext.credProps) out.credProps = ext.credProps;
    return out;
  }
  function credentialJSON(cred) {
    let json = null;
    if (typeof cred.toJSON === "function") { try { json = cred.toJSON(); } catch (e) { json = null; } }
    if (!json) {
      const r = cred.response;
      json = { id: cred.id, rawId: bufToB64u(cred.rawId), type: cred.type,
               authenticatorAttachment: cred.authenticatorAttachment || null, response: {} };
      json.response.clientDataJSON = bufToB64u(r.clientDataJSON);
      if (r.attestationObject) {
        json.response.attestationObject = bufToB64u(r.attestationObject);
        json.response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
      } else {
        json.response.authenticatorData = bufToB64u(r.authenticatorData);
        json.response.signature = bufToB64u(r.signature);
        json.response.userHandle = r.userHandle ? bufToB64u(r.userHandle) : null;
      }
    }
    json.clientExtensionResults = extensionResults(cred);
    return json;
  }

  function friendly(e) {
    if (!e) return P.failed;
    if (e.name === "NotAllowedError" || e.name === "AbortError") return P.cancelled;
    if (e.name === "InvalidStateError") return P.exists;
    if (e.name === "SecurityError") return P.security;
    if (e.name === "NotSupportedError") return P.unsupported;
    return e.message || P.failed;
  }
  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials && window.isSecureContext);
  }

  /* ---- the two ceremonies ------------------------------------------------------------------------ */
  async function status() { return AV.api("GET", "/api/passkeys/status"); }

  /* Unlock this device with its passkey (one prompt). Resolves with the server's answer. */
  async function unlock(st) {
    st = st || await status();
    const json = await AV.api("POST", "/api/passkeys/login/options");
    let cred;
    try { cred = await navigator.credentials.get({ publicKey: withPrf(requestOptions(json), st.prf_salt) }); }
    catch (e) { const err = new Error(friendly(e)); err.name = e.name; throw err; }
    return AV.api("POST", "/api/passkeys/login/verify", credentialJSON(cred));
  }

  /* Add a passkey to this (unlocked) device. Where PRF is supported but gave no key at creation,
     one more prompt lets the passkey hold the vault key itself. */
  async function register(name) {
    const st = await status();
    const json = await AV.api("POST", "/api/passkeys/register/options");
    let cred;
    try { cred = await navigator.credentials.create({ publicKey: withPrf(creationOptions(json), st.prf_salt) }); }
    catch (e) { const err = new Error(friendly(e)); err.name = e.name; throw err; }
    const body = credentialJSON(cred);
    if (name) body.name = name;
    const res = await AV.api("POST", "/api/passkeys/register/verify", body);
    if (res.prf_pending) {
      try { const u = await unlock(st); res.unlock_mode = u.unlock_mode; } catch (e) { /* the device key still unlocks */ }
    }
    return res;
  }

  /* Say why passkeys are unavailable here, unless the page's banner already does (server's judgement). */
  function showUnavailable(message) {
    const note = document.getElementById("passkey-note");
    if (!note || document.getElementById("connect-banner")) return;   // the server already said why
    if (message) document.getElementById("passkey-note-text").textContent = message;
    note.hidden = false;
  }

  /* After setup, enrolling or signing in: offer a passkey where passkeys can work, then go on.
     Resolves when done or skipped. */
  function passkeyStep(hideEl) {
    const step = document.getElementById("passkey-step");
    if (!step) return Promise.resolve();
    if (hideEl) hideEl.hidden = true;
    step.hidden = false;
    const add = document.getElementById("passkey-add-btn"), skip = document.getElementById("passkey-skip-btn");
    const error = document.getElementById("passkey-error");
    // Passkeys cannot work here (the page's banner says why) or in this browser: nothing to offer.
    if (add.hidden || !supported()) { step.hidden = true; return Promise.resolve(); }
    step.scrollIntoView({ block: "start" });
    return new Promise((resolve) => {
      skip.addEventListener("click", () => resolve());
      add.addEventListener("click", async () => {
        error.textContent = ""; add.disabled = skip.disabled = true;
        try { await register(); AV.toast(P.passkey_added); resolve(); }
        catch (e) {
          if (e.name === "InvalidStateError") { AV.toast(P.exists, 3000); resolve(); return; }  // it already has one
          error.textContent = e.message; add.disabled = skip.disabled = false;
        }
      });
    });
  }

  const localTimes = () => AV.localTimes();

  /* ---- pages ----------------------------------------------------------------------------------- */
  const basePages = Object.assign({}, AV.pages);

  AV.afterSetup = () => passkeyStep(document.getElementById("setup-form"));

  AV.pages.unlock = function () {
    if (basePages.unlock) basePages.unlock();
    const box = document.getElementById("passkey-unlock"), btn = document.getElementById("passkey-unlock-btn");
    if (!box) return;
    const form = document.getElementById("unlock-form");
    if (!supported()) { showUnavailable(P.unsupported); return; }
    status().then((st) => {
      if (!st.available) { showUnavailable(st.message); return; }
      if (!st.has_passkeys) return;
      box.hidden = false;
      const submit = form.querySelector("button[type=submit]");
      submit.classList.remove("primary");
      form.passphrase.removeAttribute("autofocus");
      if (document.activeElement === form.passphrase) form.passphrase.blur();
      btn.addEventListener("click", async () => {
        AV.showError(form, ""); AV.busy(form, true); AV.toast(P.unlocking, 4000);
        try { await unlock(st); await AV.showUnlocked(); }   // the list in place: no second page load
        catch (e) { AV.showError(form, e.message); AV.busy(form, false); }
      });
    }).catch(() => {});
  };

  AV.pages.enroll = function () {
    const form = document.getElementById("enroll-form");
    localTimes();
    if (!form) return;
    const token = new URLSearchParams(location.hash.replace(/^#/, "")).get("token") || "";
    const expiry = document.getElementById("enroll-expiry");
    AV.api("POST", "/api/enroll/check", { token }).then((r) => {
      expiry.textContent = P.expires_in.replace("{minutes}", Math.max(1, Math.round((r.expires_at - Date.now() / 1000) / 60)));
    }).catch((e) => { AV.showError(form, e.message); });
    if (!form.device_name.value) form.device_name.value = AV.deviceNameGuess();
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault(); AV.showError(form, "");
      if (form.passphrase.value !== form.passphrase2.value) { AV.showError(form, AV.T.mismatch); return; }
      AV.busy(form, true);
      try {
        await AV.api("POST", "/api/enroll", { token, device_name: form.device_name.value, passphrase: form.passphrase.value });
        history.replaceState(null, "", "/enroll");           // the token is used up: drop it from the address
        await passkeyStep(form);
        location.href = "/";
      } catch (e) { AV.showError(form, e.message); AV.busy(form, false); }
    });
  };

  AV.pages.signin = function () {
    const form = document.getElementById("signin-form");
    /* A passkey that holds its vault key signs the browser back in with one prompt, no passphrase. */
    const pkBox = document.getElementById("signin-passkey"), pkBtn = document.getElementById("signin-passkey-btn");
    if (pkBox && supported()) status().then((st) => { if (st.available) pkBox.hidden = false; }).catch(() => {});
    if (pkBtn) pkBtn.addEventListener("click", async () => {
      AV.showError(form, "");
      const name = form.device_name.value.trim();
      if (!name) { AV.showError(form, P.name_first); form.device_name.focus(); return; }
      pkBtn.disabled = true;
      try {
        const got = await AV.api("POST", "/api/devices/signin/passkey/options", { device_name: name });
        let cred;
        try { cred = await navigator.credentials.get({ publicKey: withPrf(requestOptions(got.options), got.prf_salt) }); }
        catch (e) { throw new Error(friendly(e)); }
        await AV.api("POST", "/api/devices/signin/passkey", { device_name: name, credential: credentialJSON(cred) });
        location.href = "/";
      } catch (e) { AV.showError(form, e.message); pkBtn.disabled = false; }
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault(); AV.showError(form, "");
      AV.busy(form, true);
      try {
        await AV.api("POST", "/api/devices/signin", { device_name: form.device_name.value, passphrase: form.passphrase.value });
        await passkeyStep(form);
        location.href = "/";
      } catch (e) { AV.showError(form, e.message); AV.busy(form, false); }
    });
  };

  AV.pages.devices = function () {
    localTimes();
    const pkError = document.getElementById("passkey-error"), devError = document.getElementById("device-error");
    const add = document.getElementById("passkey-add-btn");
    if (add && !supported()) { add.hidden = true; showUnavailable(P.unsupported); }
    if (add) add.addEventListener("click", async () => {
      pkError.textContent = ""; add.disabled = true;
      try { await register(); AV.toast(P.passkey_added); location.reload(); }
      catch (e) { pkError.textContent = e.message; add.disabled = false; }
    });

    const pkList = document.getElementById("passkey-list");
    if (pkList) pkList.addEventListener("click", async (ev) => {
      const row = ev.target.closest(".row");
      if (!row) return;
      const id = encodeURIComponent(row.dataset.id), name = row.dataset.name;
      try {
        if (ev.target.closest(".rename-passkey")) {
          const next = prompt(P.rename_passkey, name);
          if (!next || next === name) return;
          await AV.api("PATCH", `/api/passkeys/${id}`, { name: next });
          location.reload();
        } else if (ev.target.closest(".remove-passkey")) {
          const last = pkList.querySelectorAll(".row").length === 1;
          if (!confirm((last ? P.remove_last_passkey : P.remove_passkey).replace("{name}", name))) return;
          await AV.api("DELETE", `/api/passkeys/${id}`);
          AV.toast(P.removed); location.reload();
        }
      } catch (e) { pkError.textContent = e.message; }
    });

    const devList = document.getElementById("device-list");
    devList.addEventListener("click", async (ev) => {
      const row = ev.target.closest(".row");
      if (!row) return;
      const id = encodeURIComponent(row.dataset.id), name = row.dataset.name;
      try {
        if (ev.target.closest(".rename-device")) {
          const next = prompt(P.rename_device, name);
          if (!next || next === name) return;
          await AV.api("PATCH", `/api/devices/${id}`, { name: next });
          location.reload();
        } else if (ev.target.closest(".remove-device")) {
          askRemove(row);
        }
      } catch (e) { devError.textContent = e.message; }
    });

    /* Removing a device asks this device's passphrase or passkey again; the device is kept 30 days. */
    const dialog = document.getElementById("remove-dialog"), rmForm = document.getElementById("remove-form");
    const rmError = document.getElementById("remove-error"), rmPass = document.getElementById("remove-passphrase");
    const rmPasskey = document.getElementById("remove-passkey");
    let target = null;
    const askRemove = (row) => {
      target = row;
      const name = row.dataset.name;
      document.getElementById("remove-title").textContent = name;
      document.getElementById("remove-text").textContent = row.dataset.count === ""
        ? P.remove_device_unknown.replace("{name}", name)
        : P.remove_device.replace("{name}", name).replace("{accounts}", row.dataset.accounts);
      const self = document.getElementById("remove-this");
      self.hidden = !row.dataset.this; self.textContent = row.dataset.this ? P.remove_this_device : "";
      rmError.textContent = ""; rmPass.value = "";
      dialog.showModal();
      rmPass.focus();
    };
    const doRemove = async (body) => {
      const res = await AV.api("DELETE", `/api/devices/${encodeURIComponent(target.dataset.id)}`,
        Object.assign({ confirm_name: target.dataset.name }, body));
      dialog.close();
      if (res.this_device) { location.href = "/"; return; }
      AV.toast(P.device_removed);
      setTimeout(() => location.reload(), 600);
    };
    rmForm.addEventListener("submit", async (ev) => {
      ev.preventDefault(); rmError.textContent = "";
      if (!rmPass.value) { rmError.textContent = P.passphrase_or_passkey; rmPass.focus(); return; }
      AV.busy(rmForm, true);
      try { await doRemove({ passphrase: rmPass.value }); }
      catch (e) { rmError.textContent = e.message; }
      AV.busy(rmForm, false);
    });
    document.getElementById("remove-cancel").addEventListener("click", () => dialog.close());
    status().then((st) => {
      if (!st.available || !st.has_passkeys || !supported()) return;
      rmPasskey.hidden = false;
      rmPasskey.addEventListener("click", async () => {
        rmError.textContent = "";
        try { await unlock(st); await doRemove({}); }
        catch (e) { rmError.textContent = e.message; }
      });
    }).catch(() => {});

    const removedList = document.getElementById("removed-list");
    if (removedList) removedList.addEventListener("click", async (ev) => {
      const row = ev.target.closest(".row");
      if (!row || !ev.target.closest(".restore-device")) return;
      try {
        await AV.api("POST", `/api/devices/${encodeURIComponent(row.dataset.id)}/restore`);
        AV.toast(P.device_restored);
        setTimeout(() => location.reload(), 600);
      } catch (e) { devError.textContent = e.message; }
    });

    const enrollBtn = document.getElementById("enroll-btn"), panel = document.getElementById("enroll-panel");
    let timer = null;
    enrollBtn.addEventListener("click", async () => {
      devError.textContent = ""; enrollBtn.disabled = true;
      try {
        const r = await AV.api("POST", "/api/devices/enroll");
        document.getElementById("enroll-qr").src = r.qr_svg;
        document.getElementById("enroll-url").value = r.url;
        panel.hidden = false;
        const expiry = document.getElementById("enroll-expiry");
        const tick = () => {
          const left = r.expires_at - Date.now() / 1000;
          if (left <= 0) { expiry.textContent = P.expired; panel.querySelector(".qr").style.opacity = ".2"; clearInterval(timer); return; }
          expiry.textContent = P.expires_in.replace("{minutes}", Math.max(1, Math.ceil(left / 60)));
        };
        clearInterval(timer); tick(); timer = setInterval(tick, 15000);
        panel.scrollIntoView({ behavior: "smooth", block: "center" });
      } catch (e) { devError.textContent = e.message; }
      enrollBtn.disabled = false;
    });
    document.getElementById("enroll-copy").addEventListener("click", async () => {
      try { await AV.copyText(document.getElementById("enroll-url").value); AV.toast(P.link_copied); }
      catch (e) { document.getElementById("enroll-url").select(); }
    });
  };

  /* For tests and tools: the same helpers the pages use. */
  AV.passkeys = { register, unlock, status, credentialJSON, creationOptions, requestOptions, b64uToBuf, bufToB64u };
})();
