/* Add accounts (an image of a QR code, a link, or typed fields) and edit one account. The live
   camera on the add page is static/js/scan.js, which hands what it read to AuthVault.afterAdd. */
"use strict";

(function () {
  const AV = window.AuthVault;
  const { T, api, toast, busy, formJSON, showError, labelOf } = AV;   // static/js/core.js

  /* ---- add accounts -------------------------------------------------------------------------- */
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
    add("ok", T.added, res.added, labelOf);
    add("skip", T.skipped, res.skipped, (s) => (s.issuer || s.name ? labelOf(s) + ": " : "") + s.reason);
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
    toast(names.length === 1 ? AV.fill(T.added_label, { label: names[0] })
          : names.length ? AV.fill(T.added_count, { num: names.length }) : T.skipped, 3500);
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

  /* ---- edit one account ---------------------------------------------------------------------- */
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
      if (!confirm(AV.fill(T.delete_confirm, { label: "“" + form.dataset.label + "”" }))) return;
      try { await api("DELETE", `/api/accounts/${id}`); location.href = "/"; }
      catch (e) { showError(form, e.message); }
    });
  }

  AV.afterAdd = afterAdd;
  AV.pages.add = addPage;
  AV.pages.edit = editPage;
})();
