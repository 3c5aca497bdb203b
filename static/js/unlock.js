/* Setup (the first device and its vault) and unlock with the passphrase. Unlocking with a
   passkey is static/js/passkeys.js, which wraps AuthVault.pages.unlock (so it loads after this). */
"use strict";

(function () {
  const AV = window.AuthVault;
  const { api, busy, showError } = AV;   // static/js/core.js

  function setupPage() {
    const T = AV.T;
    const form = document.getElementById("setup-form");
    const name = form.device_name;
    if (!name.value) name.value = AV.deviceNameGuess();
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
        if (AV.afterSetup) await AV.afterSetup();   // passkeys.js: offer a passkey
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
        await AV.showUnlocked();   // the list in place: no second page load
      } catch (e) { showError(form, e.message); busy(form, false); form.passphrase.select(); }
    });
  }

  AV.pages.setup = setupPage;
  AV.pages.unlock = unlockPage;
})();
