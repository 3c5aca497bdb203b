/* The backup health mark of templates/backup/_mark.html: once per page, ask whether this
   device's backup is still its own (GET /api/backup?check=1, asked once per visit by core.js checkBackup, the list reads the same answer) and redraw the mark from `health`. */
"use strict";

(function () {
  const AV = window.AuthVault;
  const mark = document.getElementById("backup-mark");
  if (!mark || !AV) return;
  AV.checkBackup().then((st) => {
    const h = st.health;
    if (!h) return;
    mark.hidden = h.ok;
    if (h.ok) return;
    mark.className = "health-mark health-" + h.reason;
    const date = h.since ? AV.when(h.since, "date") : "";
    const text = AV.fill(mark.dataset[h.reason] || mark.dataset.attention, { device: h.device_name || "?", date });
    mark.querySelector(".health-text").textContent = text;
  }).catch(() => {});
})();
