/* Settings > Backup and Restore: the one-backup-per-account rule, every conflict explained. */
"use strict";

(function () {
  const AV = window.AuthVault;

  const { fill, when } = AV;   // static/js/core.js

  /* "1 account" / "2 accounts" in the page's language (the strings come from ngettext). */
  function counted(S, n) {
    return fill(n === 1 ? S.n_one : S.n_other, { n });
  }

  /* The backup account described by a form that includes _backup_target.html. */
  function targetOf(form) {
    const kind = form.querySelector('input[name="kind"]:checked').value;
    const t = { kind };
    for (const el of form.querySelectorAll(`.kind-fields[data-kind="${kind}"] input`)) t[el.name] = el.value;
    return t;
  }

  function wireKinds(form) {
    const show = () => {
      const kind = form.querySelector('input[name="kind"]:checked').value;
      for (const box of form.querySelectorAll(".kind-fields")) box.hidden = box.dataset.kind !== kind;
    };
    for (const r of form.querySelectorAll('input[name="kind"]')) r.addEventListener("change", show);
    show();
  }

  function holderText(S, h) {
    return fill(S.taken_text, { device: h.device_name, accounts: counted(S, h.count), when: when(h.updated_at) });
  }

  function backupPage() {
    const S = AV.T;
    const $ = (id) => document.getElementById(id);
    const enableForm = $("enable-form");
    let pendingTarget = null, pendingHolder = null, myCount = 0;
    wireKinds(enableForm);

    function button(label, fn, cls = "btn") {
      const b = document.createElement("button");
      b.type = "button"; b.className = cls; b.textContent = label; b.addEventListener("click", fn);
      return b;
    }

    async function load(check) {
      await currentCount();
      const st = await AV.api("GET", "/api/backup" + (check ? "?check=1" : ""));
      render(st);
      return st;
    }

    function render(st) {
      const title = $("status-title"), text = $("status-text"), detail = $("status-detail"), actions = $("status-actions");
      actions.innerHTML = ""; detail.textContent = "";
      enableForm.hidden = st.state !== "off";
      $("disable").hidden = st.state === "off";
      $("conflict").hidden = true;
      if (st.state === "off") { title.textContent = S.off; text.textContent = ""; return; }
      if (st.state === "on") {
        title.textContent = S.on;
        text.textContent = fill(S.on_detail, { accounts: counted(S, st.count), when: when(st.last_backup_at), where: (st.target && st.target.where) || "" });
      } else {
        title.textContent = S[st.state] || S.error;
        text.textContent = st.error ? st.error.message : "";
        if (st.retry_at) detail.textContent = fill(S.retry, { when: when(st.retry_at) });
        else if (st.state === "replaced" || st.state === "rolled-back" || st.state === "tampered") detail.textContent = S.next_replaced;
        else detail.textContent = S.next_fix;
      }
      if (!["replaced", "rolled-back", "tampered"].includes(st.state)) {
        actions.appendChild(button(S.backup_now, async () => {
          try { render(await AV.api("POST", "/api/backup/now")); } catch (e) { AV.toast(e.message, 4000); }
        }, "btn primary"));
      }
      if ((st.state === "replaced" && !st.holder) || st.state === "rolled-back" || st.state === "tampered") {
        /* No other device to choose against: take this backup account back, or use another one. */
        actions.appendChild(button(S.do_replace, async () => {
          pendingHolder = null;
          try { await enable(null, "replace"); }
          catch (e) { e.code === "backup_taken" && e.body ? showConflict(e.body.error.holder, null) : AV.toast(e.message, 4000); }
        }, "btn primary"));
        actions.appendChild(button(S.use_other, () => {
          pendingTarget = null; enableForm.hidden = false; enableForm.scrollIntoView({ behavior: "smooth" });
        }));
      }
      actions.appendChild(button(S.show_versions, showVersions));
      if (st.state === "replaced" && st.holder) {
        pendingHolder = st.holder;
        showConflict(st.holder, null);
      }
    }

    async function showVersions() {
      const list = $("versions-list");
      list.innerHTML = "";
      $("versions").hidden = false;
      try {
        const { versions } = await AV.api("GET", "/api/backup/versions");
        if (!versions.length) { list.textContent = S.no_versions; return; }
        for (const v of versions) {
          const li = document.createElement("li");
          const span = document.createElement("span");
          span.textContent = fill(S.version_line, { device: v.device_name, accounts: counted(S, v.count), when: when(v.updated_at) });
          li.appendChild(span);
          li.appendChild(button(S.restore_version, async () => {
            const key = prompt(S.key_prompt);
            if (!key) return;
            try {
              const r = await AV.api("POST", "/api/backup/versions/restore", { name: v.name, recovery_key: key });
              AV.toast(fill(S.restored, { accounts: counted(S, r.restored.length)}), 3500);
            } catch (e) { AV.toast(e.message, 4000); }
          }, "btn small"));
          list.appendChild(li);
        }
      } catch (e) { list.textContent = e.message; }
      $("versions").scrollIntoView({ behavior: "smooth" });
    }

    function showConflict(holder, target) {
      pendingHolder = holder; pendingTarget = target;
      $("conflict").hidden = false;
      $("conflict-title").textContent = fill(S.taken_title, { device: holder.device_name });
      $("conflict-text").textContent = holderText(S, holder);
      const v = { device: holder.device_name, accounts: counted(S, holder.count), mine: counted(S, myCount) };
      $("replace-hint").textContent = fill(S.replace_hint, v);
      $("merge-hint").textContent = fill(S.merge_hint, v);
      $("restore-hint").textContent = fill(S.restore_hint, v);
      $("key-form").hidden = true;
      enableForm.hidden = true;
      $("conflict").scrollIntoView({ behavior: "smooth", block: "start" });
    }

    function showRecovery(key, svg) {
      const box = $("recovery");
      box.hidden = false;
      $("recovery-key").textContent = key;
      const qr = $("recovery-qr");
      qr.innerHTML = "";
      if (svg) qr.appendChild(new DOMParser().parseFromString(svg, "image/svg+xml").documentElement);
      const blob = new Blob([`AuthVault recovery key\n${key}\n`], { type: "text/plain" });
      $("download-key").href = URL.createObjectURL(blob);
      box.scrollIntoView({ behavior: "smooth", block: "start" });
    }
    $("print-key").addEventListener("click", () => { document.body.classList.add("printing-key"); window.print(); document.body.classList.remove("printing-key"); });
    $("stored-key").addEventListener("change", (e) => { $("key-done").disabled = !e.target.checked; });
    $("key-done").addEventListener("click", () => {
      $("recovery").hidden = true; $("recovery-key").textContent = ""; $("recovery-qr").innerHTML = "";
    });

    async function enable(target, resolution, key) {
      const body = { target, resolution: resolution || null };
      if (key) body.recovery_key = key;
      if (resolution && pendingHolder) body.expected_generation = pendingHolder.generation;
      const res = await AV.api("POST", "/api/backup/enable", body);
      if (resolution === "restore") {
        AV.toast(fill(S.restored, { accounts: counted(S, res.restored.length)}), 3500);
        await load(false);
        return;
      }
      render(res);
      if (res.recovery_key) showRecovery(res.recovery_key, res.recovery_key_qr);
    }

    async function currentCount() {
      try { myCount = (await AV.api("GET", "/api/codes")).accounts.length; } catch (e) { myCount = 0; }
    }

    enableForm.addEventListener("submit", async (ev) => {
      ev.preventDefault(); AV.showError(enableForm, ""); AV.busy(enableForm, true);
      const target = targetOf(enableForm);
      await currentCount();
      try { await enable(target, null); }
      catch (e) {
        if (e.code === "backup_taken" && e.body) showConflict(e.body.error.holder, target);
        else AV.showError(enableForm, e.message);
      }
      AV.busy(enableForm, false);
    });

    $("test-btn").addEventListener("click", async () => {
      AV.showError(enableForm, ""); $("test-result").textContent = "";
      try {
        const r = await AV.api("POST", "/api/backup/test", { target: targetOf(enableForm) });
        $("test-result").textContent = r.holder
          ? fill(S.test_ok_holder, { device: r.holder.device_name, accounts: counted(S, r.holder.count), when: when(r.holder.updated_at) })
          : S.test_ok_empty;
      } catch (e) { AV.showError(enableForm, e.message); }
    });

    let chosen = null;
    for (const b of document.querySelectorAll(".choice")) {
      b.addEventListener("click", async () => {
        chosen = b.dataset.choice;
        if (chosen === "cancel") { $("conflict").hidden = true; await load(false); return; }
        if (chosen === "other") {
          $("conflict").hidden = true; enableForm.hidden = false;
          enableForm.scrollIntoView({ behavior: "smooth" }); return;
        }
        const target = pendingTarget;   // null: the backup account this device already uses
        if (chosen === "replace") {
          try { await enable(target, "replace"); }
          catch (e) { e.code === "backup_taken" ? showConflict(e.body.error.holder, target) : AV.toast(e.message, 4000); }
          return;
        }
        $("key-form").hidden = false;
        $("key-submit").textContent = chosen === "merge" ? S.do_merge : S.do_restore;
        $("conflict-key").focus();
      });
    }

    $("key-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const form = $("key-form");
      AV.showError(form, ""); AV.busy(form, true);
      try {
        await enable(pendingTarget, chosen, $("conflict-key").value);
        $("conflict-key").value = "";
      } catch (e) {
        if (e.code === "backup_taken" && e.body) showConflict(e.body.error.holder, pendingTarget);
        else AV.showError(form, e.message);
      }
      AV.busy(form, false);
    });

    $("disable-btn").addEventListener("click", async () => {
      const del = document.querySelector('#disable input[name="remote"]:checked').value === "delete";
      try { render(await AV.api("POST", "/api/backup/disable", { delete_remote: del })); }
      catch (e) { AV.showError($("disable"), e.message); }
    });

    load(true).catch((e) => { $("status-text").textContent = e.message; });
  }

  /* Restore onto this device: look first (whose, when, how many), then the recovery key. */
  function restorePage() {
    const S = AV.T;
    const $ = (id) => document.getElementById(id);
    const form = $("restore-form");
    wireKinds(form);
    let target = null;
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault(); AV.showError(form, ""); AV.busy(form, true);
      try {
        target = targetOf(form);
        const { holder } = await AV.api("POST", "/api/backup/inspect", { target });
        $("found").hidden = false;
        $("found-text").textContent = fill(S.found, { device: holder.device_name, accounts: counted(S, holder.count), when: when(holder.updated_at) });
        $("key").focus();
      } catch (e) { AV.showError(form, e.message); }
      AV.busy(form, false);
    });
    async function restore(mode) {
      const box = $("found");
      AV.showError(box, ""); $("merge-offer").hidden = true;
      try {
        const r = await AV.api("POST", "/api/backup/restore", { target, recovery_key: $("key").value, mode });
        $("key").value = "";
        $("done").hidden = false;
        const actions = r.restored.filter((a) => a.action_required).length;
        $("done-text").textContent = fill(S.done, { accounts: counted(S, r.restored.length), actions });
        box.hidden = true;
      } catch (e) {
        if (e.code === "device_not_empty") {
          $("merge-offer").hidden = false;
          $("merge-text").textContent = e.message;
        } else AV.showError(box, e.message);
      }
    }
    $("restore-btn").addEventListener("click", () => restore(null));
    $("merge-btn").addEventListener("click", () => restore("merge"));
    $("cancel-btn").addEventListener("click", () => { $("merge-offer").hidden = true; });
  }

  AV.pages.backup = backupPage;
  AV.pages.restore = restorePage;
})();
