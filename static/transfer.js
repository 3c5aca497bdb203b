/* Moving in and out: Import (preview, then confirm), Export (files and Google QR codes), one
   account's QR code, Send to another device and the inbox of what other devices sent. */
"use strict";

(function () {
  const AV = window.AuthVault;
  const $ = (id) => document.getElementById(id);
  const L = () => JSON.parse($("transfer-i18n").textContent);

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /* An SVG document from the server, inserted as nodes (CSP: no inline markup tricks). */
  function svgNode(text, label) {
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const svg = document.importNode(doc.documentElement, true);
    svg.removeAttribute("width"); svg.removeAttribute("height");
    svg.setAttribute("role", "img");
    if (label) svg.setAttribute("aria-label", label);
    return svg;
  }

  function labelOf(a) {
    return [a.issuer, a.name].filter(Boolean).join(" · ") || "—";
  }

  /* One row of a preview or result list: the name, then smaller lines under it. */
  function row(main, ...lines) {
    const li = el("li");
    const left = el("span", "row-main");
    left.appendChild(el("strong", "", main));
    for (const line of lines) {
      if (line) { left.appendChild(el("br")); left.appendChild(el("small", "hint", line)); }
    }
    li.appendChild(left);
    return li;
  }

  /* Scroll a card to the top of the screen, under the sticky bar (no smooth scroll: phones
     and screenshots see the end state at once). */
  function reveal(node) { node.scrollIntoView({ block: "start" }); }

  function skippedRows(list, skipped) {
    list.innerHTML = "";
    for (const s of skipped) {
      const li = el("li", "skip");
      const left = el("span", "row-main");
      if (s.issuer || s.name) { left.appendChild(el("strong", "", labelOf(s))); left.appendChild(el("br")); }
      left.appendChild(el("small", "", s.reason));
      li.appendChild(left);
      list.appendChild(li);
    }
  }

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
          add.appendChild(row(a.issuer || a.name || "—", a.issuer ? a.name : "",
                              a.completes_action_required ? t.completes : kind.join(" · ")));
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
      $("unencrypted-box").hidden = !(f === "aegis-plain" || f === "uris");
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
        if (form.password.value !== form.password2.value) { err.textContent = t.mismatch; form.password2.focus(); return; }
        body.password = form.password.value;
      }
      if (format === "aegis-plain" || format === "uris") {
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

  /* ---- Send to another device ----------------------------------------------------------------- */
  async function sendPage() {
    const t = L();
    const form = $("send-form"), btn = $("send-btn"), choices = $("device-choices");
    let devices = [];
    const chosenDevice = () => {
      const r = choices.querySelector('input[name="device"]:checked');
      return r ? devices.find((d) => d.id === r.value) : null;
    };
    const chosenAccounts = () => [...form.querySelectorAll('input[name="account"]:checked')].map((c) => c.value);
    function sync() {
      const d = chosenDevice(), ids = chosenAccounts();
      btn.disabled = !d || !ids.length;
      btn.textContent = d && ids.length ? fill(t.send_to, { n: ids.length, device: d.name }) : t.choose;
      const all = $("select-all");
      if (all) {
        const boxes = [...form.querySelectorAll('input[name="account"]:not(:disabled)')];
        all.checked = boxes.length > 0 && boxes.every((b) => b.checked);
      }
    }
    form.addEventListener("change", (ev) => {
      if (ev.target.id === "select-all") {
        for (const b of form.querySelectorAll('input[name="account"]:not(:disabled)')) b.checked = ev.target.checked;
      }
      sync();
    });
    choices.addEventListener("change", sync);

    async function loadOutbox() {
      const res = await AV.api("GET", "/api/send");
      const list = $("outbox-list"); list.innerHTML = "";
      for (const tr of res.transfers) {
        const li = row(fill(t.waiting, { n: tr.count, device: tr.to.name }), new Date(tr.created_at * 1000).toLocaleString());
        const b = el("button", "btn small", t.take_back); b.type = "button";
        b.addEventListener("click", async () => {
          try { await AV.api("DELETE", `/api/send/${tr.id}`); loadOutbox(); } catch (e) { AV.toast(e.message, 3500); }
        });
        li.appendChild(b);
        list.appendChild(li);
      }
      $("outbox").hidden = !res.transfers.length;
    }

    try {
      devices = (await AV.api("GET", "/api/send/devices")).devices;
    } catch (e) { $("send-error").textContent = e.message; }
    $("no-devices").hidden = devices.length > 0;
    for (const d of devices) {
      const label = el("label", "check");
      const input = el("input"); input.type = "radio"; input.name = "device"; input.value = d.id;
      input.disabled = !d.can_receive;
      const span = el("span");
      span.appendChild(el("strong", "", d.name));
      if (!d.can_receive) { span.appendChild(el("br")); span.appendChild(el("small", "hint", fill(t.not_ready, { device: d.name }))); }
      label.append(input, span);
      choices.appendChild(label);
    }
    const ready = devices.filter((d) => d.can_receive);
    if (ready.length === 1) choices.querySelector(`input[value="${ready[0].id}"]`).checked = true;
    sync();
    loadOutbox().catch(() => {});

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const d = chosenDevice(), ids = chosenAccounts();
      if (!d || !ids.length) return;
      $("send-error").textContent = "";
      AV.busy(form, true);
      try {
        const res = await AV.api("POST", "/api/send", { device_id: d.id, account_ids: ids });
        AV.toast(fill(t.sent, { n: res.transfer.count, device: d.name }), 4000);
        for (const b of form.querySelectorAll('input[type="checkbox"]')) b.checked = false;
        loadOutbox().catch(() => {});
      } catch (e) { $("send-error").textContent = e.message; }
      finally { AV.busy(form, false); sync(); }
    });
  }

  /* ---- what other devices sent ------------------------------------------------------------------ */
  async function inboxPage() {
    const t = L();
    const box = $("inbox-list"), back = $("inbox-later"), backText = back.textContent;
    async function load() {
      let res;
      try { res = await AV.api("GET", "/api/send/inbox"); } catch (e) { box.textContent = e.message; return; }
      box.innerHTML = "";
      $("inbox-empty").hidden = res.transfers.length > 0;
      back.textContent = res.transfers.length ? t.later : backText;
      for (const tr of res.transfers) box.appendChild(card(tr));
    }
    function card(tr) {
      const sec = el("section", "card transfer");
      sec.dataset.id = tr.id;
      sec.appendChild(el("h2", "", tr.count === 1 ? fill(t.arrived_one, { device: tr.from.name })
        : fill(t.arrived_many, { n: tr.count, device: tr.from.name })));
      sec.appendChild(el("p", "hint", new Date(tr.created_at * 1000).toLocaleString()));
      const err = el("p", "error"); err.setAttribute("role", "alert");
      const keepBtn = el("button", "btn primary keep-btn"); keepBtn.type = "button";
      if (tr.error) {
        err.textContent = tr.error.message;
      }
      const ul = el("ul", "plain-list pick-list");
      for (const a of tr.accounts) {
        const li = el("li");
        const label = el("label", "check");
        const input = el("input"); input.type = "checkbox"; input.value = String(a.index); input.checked = !a.already_here;
        const span = el("span");
        span.appendChild(el("strong", "", a.issuer || a.name || "—"));
        if (a.issuer && a.name) { span.appendChild(el("br")); span.appendChild(el("small", "hint", a.name)); }
        if (a.already_here) { span.appendChild(el("br")); span.appendChild(el("small", "hint", t.already_here)); }
        label.append(input, span); li.appendChild(label); ul.appendChild(li);
      }
      const chosen = () => [...ul.querySelectorAll("input:checked")].map((c) => Number(c.value));
      const sync = () => {
        const n = chosen().length;
        keepBtn.disabled = n === 0;
        keepBtn.textContent = n ? fill(t.keep, { n }) : t.keep_none;
      };
      ul.addEventListener("change", sync);
      sync();
      const declineBtn = el("button", "btn danger decline-btn", t.decline_all); declineBtn.type = "button";
      keepBtn.addEventListener("click", async () => {
        keepBtn.disabled = declineBtn.disabled = true;
        try {
          const res = await AV.api("POST", `/api/send/inbox/${tr.id}`, { keep: chosen() });
          sec.replaceChildren(el("p", "ok-text", fill(t.kept, { n: res.added.length, d: res.declined })));
          if (res.skipped.length) { const s = el("ul", "plain-list skip-list"); skippedRows(s, res.skipped); sec.appendChild(s); }
          if (!box.querySelector(".keep-btn:not([disabled]), .decline-btn:not([disabled])")) back.textContent = backText;
        } catch (e) { err.textContent = e.message; keepBtn.disabled = declineBtn.disabled = false; }
      });
      declineBtn.addEventListener("click", async () => {
        if (!confirm(t.decline_confirm)) return;
        try {
          await AV.api("DELETE", `/api/send/inbox/${tr.id}`);
          sec.replaceChildren(el("p", "hint", t.declined));
        } catch (e) { err.textContent = e.message; }
      });
      sec.append(ul, err);
      if (!tr.error) sec.appendChild(keepBtn);
      sec.appendChild(declineBtn);
      return sec;
    }
    load();
  }

  AV.pages.import = importPage;
  AV.pages.export = exportPage;
  AV.pages["account-qr"] = accountQrPage;
  AV.pages.send = sendPage;
  AV.pages.inbox = inboxPage;
})();
