/* Moving in and out: Import (preview, then confirm), Export (files and Google QR codes) and one
   account's QR code. Sending to another device is static/js/sending.js. */
"use strict";

(function () {
  const AV = window.AuthVault;
  const $ = (id) => document.getElementById(id);
  const L = () => AV.T;
  const { fill, el, labelOf, row, skippedRows } = AV;   // static/js/core.js

  /* An SVG document from the server, inserted as nodes (CSP: no inline markup tricks). */
  function svgNode(text, label) {
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const svg = document.importNode(doc.documentElement, true);
    svg.removeAttribute("width"); svg.removeAttribute("height");
    svg.setAttribute("role", "img");
    if (label) svg.setAttribute("aria-label", label);
    return svg;
  }

  /* Scroll a card to the top of the screen, under the sticky bar (no smooth scroll: phones
     and screenshots see the end state at once). */
  function reveal(node) { node.scrollIntoView({ block: "start" }); }

  /* ---- Settings > Import ------------------------------------------------------------------- */
  function importPage() {
    const t = L();
    const form = $("import-form"), file = $("import-file"), pwBox = $("password-box"), pw = $("import-password");
    const err = $("import-error"), preview = $("preview"), done = $("import-done");
    const previewBtn = $("preview-btn"), confirmBtn = $("confirm-btn");

    function formData(confirm) {
      const fd = new FormData();
      fd.append("file", file.files[0]);
      if (!pwBox.hidden && pw.value) fd.append("password", pw.value);
      if ($("import-format").value) fd.append("format", $("import-format").value);
      if (confirm) fd.append("confirm", "true");
      return fd;
    }

    function reset() {
      preview.hidden = true; done.hidden = true; form.hidden = false;
      err.textContent = ""; pwBox.hidden = true; pw.value = ""; previewBtn.hidden = true;
      file.value = ""; $("import-file-name").textContent = "";
      scrollTo(0, 0);
    }

    function failed(e) {
      if (e.code === "password_required" || e.code === "wrong_password") {
        pwBox.hidden = false; previewBtn.hidden = false;
        $("password-why").textContent = e.message;
        err.textContent = e.code === "wrong_password" ? t.wrong_password : "";
        pw.focus(); pw.select();
      } else {
        err.textContent = e.message;
      }
    }

    async function showPreview() {
      if (!file.files.length) return;
      err.textContent = ""; preview.hidden = true;
      AV.busy(form, true); $("import-status").textContent = t.checking;
      try {
        const res = await AV.api("POST", "/api/import", formData(false));
        const n = res.count;
        $("preview-title").textContent = n === 0 ? t.will_add_none : n === 1 ? t.will_add_one : fill(t.will_add_many, { n });
        $("preview-format").textContent = fill(t.format, { format: res.format_label });
        const add = $("preview-add"); add.innerHTML = "";
        for (const a of res.add) {
          const kind = [t.types[a.type] || a.type, fill(t.digits, { n: a.digits })];
          if (a.type === "totp" && a.period !== 30) kind.push(fill(t.every, { n: a.period }));
          const li = row(a.issuer || a.name || "—", a.issuer ? a.name : "",
                         a.completes_action_required ? t.completes : kind.join(" · "));
          /* What AuthVault recognised or guessed ("Recognised as Steam Guard", "HOTP counter 5"):
             seen before confirming, so a wrong reading can be caught. */
          const notes = a.notes || [];
          if (notes.length) {
            const ul = el("ul", "import-notes");
            for (const n of notes) ul.appendChild(el("li", "", n));
            li.querySelector(".row-main").appendChild(ul);
          }
          add.appendChild(li);
        }
        const skipTitle = $("preview-skip-title");
        skipTitle.hidden = !res.skipped.length;
        skipTitle.textContent = fill(t.not_imported, { n: res.skipped.length });
        skippedRows($("preview-skip"), res.skipped);
        confirmBtn.hidden = n === 0;
        confirmBtn.textContent = n === 1 ? t.import_one : fill(t.import_many, { n });
        preview.hidden = false; form.hidden = true;
        previewBtn.hidden = true;
        scrollTo(0, 0);
      } catch (e) {
        failed(e);
      } finally { AV.busy(form, false); $("import-status").textContent = ""; }
    }

    function picked() {
      $("import-file-name").textContent = file.files.length ? file.files[0].name : "";
      pwBox.hidden = true; pw.value = ""; done.hidden = true;
      showPreview();
    }
    file.addEventListener("change", picked);
    if (file.files.length) picked();  // a file picked before this script ran (nothing is written before confirming)
    form.addEventListener("submit", (ev) => { ev.preventDefault(); showPreview(); });
    $("import-format").addEventListener("change", () => { if (file.files.length) showPreview(); });
    $("cancel-btn").addEventListener("click", reset);
    $("import-another").addEventListener("click", reset);

    confirmBtn.addEventListener("click", async () => {
      $("confirm-error").textContent = "";
      const label = confirmBtn.textContent;
      confirmBtn.disabled = true; confirmBtn.textContent = t.importing;
      try {
        // The server keeps nothing between the two calls: the file (and its password) go again.
        const res = await AV.api("POST", "/api/import", formData(true));
        const n = res.count;
        $("done-title").textContent = n === 0 ? t.added_none : n === 1 ? t.added_one : fill(t.added_many, { n });
        skippedRows($("done-skip"), res.skipped);
        preview.hidden = true; form.hidden = true; done.hidden = false;
        scrollTo(0, 0);
      } catch (e) {
        $("confirm-error").textContent = e.message;
        confirmBtn.disabled = false;
        confirmBtn.textContent = label;
      }
    });
  }

  /* ---- Settings > Export ------------------------------------------------------------------- */
  async function downloadFile(body) {
    const resp = await fetch("/api/export", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content,
                 "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    if (!resp.ok) {
      let data = null;
      try { data = await resp.json(); } catch (e) { /* not JSON */ }
      const err = new Error((data && data.error && data.error.message) || AV.T.network);
      err.code = data && data.error && data.error.code; err.status = resp.status;
      throw err;
    }
    const disposition = resp.headers.get("Content-Disposition") || "";
    const match = /filename="([^"]+)"/.exec(disposition);
    const blob = await resp.blob();
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url; a.download = match ? match[1] : "authvault-export";
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);   // the file lives only in this browser
    return Number(resp.headers.get("X-AuthVault-Not-Exported") || 0);
  }

  function qrViewer(res, t) {
    const viewer = $("qr-viewer"), box = $("qr-box");
    let index = 0;
    const n = res.qr_svgs.length;
    function show() {
      box.innerHTML = "";
      if (!n) { $("qr-count").textContent = t.none_exportable; return; }
      const label = fill(t.qr_alt, { i: index + 1, n });
      box.appendChild(svgNode(res.qr_svgs[index], label));
      box.dataset.index = String(index);
      $("qr-count").textContent = fill(t.code_of, { i: index + 1, n });
      $("qr-prev").disabled = index === 0;
      $("qr-next").disabled = index >= n - 1;
    }
    $("qr-prev").onclick = () => { if (index > 0) { index -= 1; show(); } };
    $("qr-next").onclick = () => { if (index < n - 1) { index += 1; show(); } };
    $("qr-prev").hidden = $("qr-next").hidden = n < 2;
    const left = res.not_exportable || [];
    $("not-exportable").hidden = !left.length;
    $("not-exportable-title").textContent = fill(t.not_exportable, { n: left.length });
    skippedRows($("not-exportable-list"), left);
    show();
    viewer.hidden = false;
    reveal(viewer);
  }

  function exportPage() {
    const t = L();
    const form = $("export-form"), err = $("export-error");
    const formatOf = () => form.querySelector('input[name="format"]:checked').value;
    function sync() {
      const f = formatOf();
      $("password-fields").hidden = f !== "aegis";
      $("unencrypted-box").hidden = !(f === "aegis-plain" || f === "uris" || f === "2fauth");
      $("export-btn").textContent = t.button[f];
      err.textContent = "";
    }
    for (const r of form.querySelectorAll('input[name="format"]')) r.addEventListener("change", sync);
    sync();

    $("qr-close").addEventListener("click", () => {
      $("qr-box").innerHTML = ""; $("qr-viewer").hidden = true; form.hidden = false;
    });

    // A passkey (one prompt) proves the person as well as the passphrase does.
    let reauthed = false;
    if (AV.passkeys && window.PublicKeyCredential) {
      AV.passkeys.status().then((st) => {
        if (!st.available || !st.has_passkeys) return;
        $("export-passkey-btn").hidden = false;
        $("export-or").hidden = false;
        $("export-btn").classList.remove("primary");   // one primary choice: the passkey; the passphrase is the other way
        $("export-passkey-btn").addEventListener("click", async () => {
          err.textContent = "";
          try { await AV.passkeys.unlock(st); } catch (e) { err.textContent = e.message; return; }
          reauthed = true;
          form.requestSubmit();
        });
      }).catch(() => {});
    }

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      err.textContent = "";
      $("export-done").hidden = true;
      const format = formatOf();
      const body = { format, passphrase: form.passphrase.value };
      if (format === "aegis") {
        if (form.password.value.length < 8) { err.textContent = t.too_short; form.password.focus(); return; }
        if (form.password.value !== form.password2.value) { err.textContent = t.password_mismatch; form.password2.focus(); return; }
        body.password = form.password.value;
      }
      if (format === "aegis-plain" || format === "uris" || format === "2fauth") {
        if (!$("i-understand").checked) { err.textContent = t.confirm_unencrypted; return; }
        body.i_understand_unencrypted = true;
      }
      if (!body.passphrase && reauthed) { delete body.passphrase; reauthed = false; }
      else if (!body.passphrase) { err.textContent = t.passphrase; form.passphrase.focus(); return; }
      AV.busy(form, true);
      try {
        if (format === "google") {
          const res = await AV.api("POST", "/api/export", body);
          form.passphrase.value = "";
          form.hidden = true;
          qrViewer(res, t);
        } else {
          const leftOut = await downloadFile(body);
          form.passphrase.value = ""; form.password.value = ""; form.password2.value = "";
          $("export-done-title").textContent = t.downloaded;
          $("export-done-hint").textContent = t.downloaded_hint + (leftOut ? " " + fill(t.left_out, { n: leftOut }) : "");
          $("export-done").hidden = false;
          reveal($("export-done"));                      // the result in view, not below the fold
        }
      } catch (e) {
        err.textContent = e.message;
        if (e.code === "wrong_passphrase") { form.passphrase.select(); }
      } finally { AV.busy(form, false); }
    });
  }

  /* ---- one account's QR code ----------------------------------------------------------------- */
  function accountQrPage() {
    const form = $("qr-form");
    if (!form || !form.passphrase) return;
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("qr-error").textContent = "";
      AV.busy(form, true);
      try {
        const res = await AV.api("POST", `/api/accounts/${form.dataset.id}/qr`, { passphrase: form.passphrase.value });
        form.passphrase.value = "";
        const box = $("account-qr-box"); box.innerHTML = "";
        box.appendChild(svgNode(res.svg, res.label));
        form.hidden = true; $("qr-shown").hidden = false;
      } catch (e) { $("qr-error").textContent = e.message; form.passphrase.select(); }
      finally { AV.busy(form, false); }
    });
    $("qr-hide").addEventListener("click", () => {
      $("account-qr-box").innerHTML = ""; $("qr-shown").hidden = true; form.hidden = false;
    });
  }

  AV.pages.import = importPage;
  AV.pages.export = exportPage;
  AV.pages["account-qr"] = accountQrPage;
})();
