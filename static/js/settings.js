/* Settings › This device: lock time and language, and the passphrase change. The list options
   on the same page are static/js/list.js's (it wraps AuthVault.pages.settings, so it loads after
   this); passkeys, devices and backup have their own pages. */
"use strict";

(function () {
  const AV = window.AuthVault;
  const { T, api, toast, busy, fill, showError } = AV;   // static/js/core.js

  /* Change the passphrase with the current one, or with one passkey prompt (the passkey unlock
     counts as re-auth for a minute, as for exports and removing a device). */
  function passphraseForm() {
    const form = document.getElementById("passphrase-form");
    if (!form) return;
    const err = document.getElementById("passphrase-error"), done = document.getElementById("passphrase-done");
    const pkBtn = document.getElementById("passphrase-passkey");
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
        const conn = AV.connection;
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
    const pk = AV.passkeys;
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

  AV.pages.settings = settingsPage;
})();
