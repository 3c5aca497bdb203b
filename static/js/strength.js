/* The passphrase strength meter (the passphrase_fields macro of templates/_macros.html): every
   <meter class="strength" data-for="ID"> follows its field as the person types. Loaded by the
   pages that choose a passphrase: setup, add a device, change the passphrase. */
"use strict";

(function () {
  const AV = window.AuthVault;

  /* 0 (under 8 characters) to 3: length, character classes and words, as the hint says. */
  function strength(p) {
    if (p.length < 8) return 0;
    const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(p)).length;
    const words = p.trim().split(/\s+/).length;
    if (p.length >= 20 || words >= 4 || (p.length >= 14 && classes >= 3)) return 3;
    if (p.length >= 12 || classes >= 3) return 2;
    return 1;
  }

  function wireStrength() {
    const T = AV.T;
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
})();
