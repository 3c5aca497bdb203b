/* Settings > Backup and Restore: the one-backup-per-account rule, every conflict explained from
   both sides (the device turning backup on, and the device whose backup was taken over). */
"use strict";

(function () {
  const AV = window.AuthVault;

  const { fill, when } = AV;   // static/js/core.js

  /* "1 account" / "2 accounts" in the page's language (the strings come from ngettext). */
  function counted(S, n) {
    return fill(n === 1 ? S.n_one : S.n_other, { n });
  }

  /* A string of two plural forms (key + "_one"), filled. */
  function plural(S, key, n, values) {
    return fill(n === 1 && S[key + "_one"] ? S[key + "_one"] : S[key], Object.assign({ n }, values || {}));
  }

  /* Sentences run on with a space, except in Japanese. */
  function sentences(parts) {
    return parts.filter(Boolean).join((document.documentElement.lang || "").startsWith("ja") ? "" : " ");
  }

  /* Which key opens a backup: "the recovery key on iPhone's recovery sheet of Dec 1, 2026". */
  function keyOf(S, holder) {
    const o = holder && holder.key_origin;
    return o ? fill(S.key_of, { device: o.device_name, date: when(o.created_at, "date") }) : S.key_of_unknown;
  }

  function keyLabel(S, holder) {
    const o = holder && holder.key_origin;
    return o ? fill(S.key_label, { device: o.device_name, date: when(o.created_at, "date") }) : S.key_label_unknown;
  }

  /* Restore results in words; clauses that count zero are left out. */
  function restoredText(S, r) {
    const added = r.restored.length, here = r.already_here || 0;
    const actions = r.action_required != null ? r.action_required : r.restored.filter((a) => a.action_required).length;
    if (!added && !here) return S.restored_empty;
    if (!added) return fill(S.restored_all_here, { accounts: counted(S, here) });
    const parts = [fill(S.restored_added, { accounts: counted(S, added) })];
    if (here) parts.push(plural(S, "restored_some_here", here));
    if (actions) parts.push(plural(S, "restored_actions", actions));
    return sentences(parts);
  }

  /* The backup account described by a form that includes backup/_target.html. */
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

  /* Masked key fields with a Show/Hide toggle. */
  function wireShowKeys(S) {
    for (const b of document.querySelectorAll(".show-key")) {
      b.addEventListener("click", () => {
        const input = document.getElementById(b.getAttribute("aria-controls"));
        const shown = input.type === "text";
        input.type = shown ? "password" : "text";
        b.textContent = shown ? S.show : S.hide;
        b.setAttribute("aria-pressed", String(!shown));
      });
    }
  }

  function holderText(S, h) {
    return fill(S.taken_text, { device: h.device_name, accounts: counted(S, h.count), when: when(h.updated_at) });
  }

  function backupPage() {
    const S = AV.T;
    const $ = (id) => document.getElementById(id);
    const enableForm = $("enable-form");
    /* side: "taken" (turning on where another device's backup is) or "replaced" (taken over) */
    let pendingTarget = null, pendingHolder = null, side = "taken", myCount = 0, chosen = null, lastStatus = null;
    wireKinds(enableForm);
    wireShowKeys(S);

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

    function result(text) { $("status-result").textContent = text || ""; }

    function render(st) {
      lastStatus = st;
      const title = $("status-title"), text = $("status-text"), detail = $("status-detail"), actions = $("status-actions");
      actions.innerHTML = ""; detail.textContent = "";
      enableForm.hidden = st.state !== "off";
      $("disable").hidden = st.state === "off";
      $("disable-ask").hidden = true; $("disable-btn").hidden = false;
      $("conflict").hidden = true;
      if (st.state === "off") { title.textContent = S.off; text.textContent = ""; return; }
      if (st.state === "on") {
        title.textContent = S.on;
        text.textContent = fill(S.on_detail, { accounts: counted(S, st.count), when: when(st.last_backup_at), where: (st.target && st.target.where) || "" });
      } else {
        title.textContent = S[st.state] || S.error;
        text.textContent = st.error ? st.error.message : "";
        const since = st.failing_since && st.state !== "replaced" ? fill(S.failing_since, { when: when(st.failing_since) }) + " " : "";
        if (st.retry_at) detail.textContent = since + fill(S.retry, { when: when(st.retry_at) });
        else if (st.state === "replaced" && st.holder) detail.textContent = "";  /* the conflict card below says it */
        else if (st.state === "replaced" || st.state === "rolled-back" || st.state === "tampered") detail.textContent = since + S.next_replaced;
        else detail.textContent = since + S.next_fix;
      }
      if (!["replaced", "rolled-back", "tampered"].includes(st.state)) {
        actions.appendChild(button(S.backup_now, async () => {
          try { result(""); render(await AV.api("POST", "/api/backup/now")); } catch (e) { AV.toast(e.message, 4000); }
        }, "btn primary"));
      }
      if ((st.state === "replaced" && !st.holder) || st.state === "rolled-back" || st.state === "tampered") {
        /* No other device to choose against: take this backup account back, or use another one. */
        actions.appendChild(button(S.do_replace, async () => {
          pendingHolder = null; side = "replaced";
          try { await enable(null, "replace"); }
          catch (e) { e.code === "backup_taken" && e.body ? showConflict(e.body.error.holder, null, "replaced") : AV.toast(e.message, 4000); }
        }, "btn primary"));
        actions.appendChild(button(S.use_other, () => {
          pendingTarget = null; enableForm.hidden = false; enableForm.scrollIntoView({ behavior: "smooth" });
        }));
      }
      actions.appendChild(button(S.show_versions, showVersions));
      if (st.state === "replaced" && st.holder) showConflict(st.holder, null, "replaced");
    }

    /* Previous versions: each restores through a masked form that says whose sheet opens it. */
    let pickedVersion = null;
    async function showVersions() {
      const list = $("versions-list");
      list.innerHTML = "";
      $("versions").hidden = false; $("version-form").hidden = true;
      try {
        const { versions } = await AV.api("GET", "/api/backup/versions");
        if (!versions.length) { list.textContent = S.no_versions; return; }
        for (const v of versions) {
          const li = document.createElement("li");
          const span = document.createElement("span");
          span.textContent = fill(S.version_line, { device: v.device_name, accounts: counted(S, v.count), when: when(v.updated_at) });
          li.appendChild(span);
          li.appendChild(button(S.restore_version, () => pickVersion(v), "btn small"));
          list.appendChild(li);
        }
      } catch (e) { list.textContent = e.message; }
      $("versions").scrollIntoView({ behavior: "smooth" });
    }

    function pickVersion(v) {
      pickedVersion = v;
      const form = $("version-form");
      form.hidden = false; AV.showError(form, "");
      $("version-what").textContent = fill(S.version_what, { device: v.device_name, when: when(v.updated_at), accounts: counted(S, v.count) });
      $("version-key-label").textContent = keyLabel(S, v);
      $("version-submit").disabled = false;
      $("version-key").focus();
    }
    $("version-cancel").addEventListener("click", () => { $("version-form").hidden = true; $("version-key").value = ""; });
    $("version-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const form = $("version-form");
      AV.showError(form, ""); AV.busy(form, true);
      try {
        const r = await AV.api("POST", "/api/backup/versions/restore", { name: pickedVersion.name, recovery_key: $("version-key").value });
        $("version-key").value = ""; form.hidden = true;
        result(restoredText(S, r));
        $("status-card").scrollIntoView({ behavior: "smooth" });
      } catch (e) { AV.showError(form, e.message); }   /* the typed key stays */
      AV.busy(form, false);
    });

    function showConflict(holder, target, from) {
      pendingHolder = holder; pendingTarget = target; side = from || "taken";
      $("conflict").hidden = false;
      $("conflict-title").textContent = fill(side === "replaced" ? S.replaced_title : S.taken_title, { device: holder.device_name });
      $("conflict-text").textContent = sentences([holderText(S, holder), S.read_now]);
      const v = { device: holder.device_name, accounts: counted(S, holder.count), mine: counted(S, myCount), key: keyOf(S, holder) };
      $("cancel-hint").textContent = side === "replaced" ? S.cancel_replaced : S.cancel_taken;
      $("replace-hint").textContent = fill(side === "replaced" ? S.replace_replaced : S.replace_taken, v);
      $("merge-hint").textContent = fill(S.merge_hint, v);
      $("restore-hint").textContent = fill(S.restore_hint, v);
      $("other-hint").textContent = fill(S.other_hint, v);
      $("conflict-key-label").textContent = keyLabel(S, holder);
      enableForm.hidden = true;
    }

    /* The backup changed between the screen and the choice: say what changed, keep the typed
       key, one tap to go on against the backup as it is now. */
    function showChanged(holder) {
      showConflict(holder, pendingTarget, side);
      const box = $("conflict-changed");
      const what = chosen || "merge";
      let text = fill(S["changed_" + what], { device: holder.device_name, ago: when(holder.updated_at, "ago"), accounts: counted(S, holder.count) });
      if (what !== "replace" && $("conflict-key").value) text = sentences([text, fill(S.changed_key, { key: keyOf(S, holder) })]);
      $("changed-text").textContent = text;
      $("again-btn").textContent = S["again_" + what];
      box.hidden = false;
      if (what !== "replace") { $("key-form").hidden = false; $("key-submit").textContent = what === "merge" ? S.do_merge : S.do_restore; }
      box.scrollIntoView({ behavior: "smooth", block: "center" });
      $("again-btn").focus();
    }
    $("again-btn").addEventListener("click", () => {
      $("conflict-changed").hidden = true;
      if (chosen === "replace") doReplace();
      else $("key-form").requestSubmit();
    });

    function showRecovery(res, why) {
      const box = $("recovery");
      box.hidden = false;
      $("recovery-why").textContent = why;
      $("recovery-key").textContent = res.recovery_key;
      $("sheet-where").textContent = (res.target && res.target.where) || "";
      $("sheet-date").textContent = when((res.key_origin && res.key_origin.created_at) || new Date().toISOString());
      const qr = $("recovery-qr");
      qr.innerHTML = "";
      if (res.recovery_key_qr) qr.appendChild(new DOMParser().parseFromString(res.recovery_key_qr, "image/svg+xml").documentElement);
      const lines = ["AuthVault recovery sheet", `${$("sheet-device").textContent} · ${$("sheet-where").textContent}`,
        $("sheet-date").textContent, "", res.recovery_key, ""];
      const blob = new Blob([lines.join("\n")], { type: "text/plain" });
      $("download-key").href = URL.createObjectURL(blob);
      box.scrollIntoView({ behavior: "smooth", block: "start" });
    }
    $("print-key").addEventListener("click", () => { document.body.classList.add("printing-key"); window.print(); document.body.classList.remove("printing-key"); });
    $("stored-key").addEventListener("change", (e) => { $("key-done").disabled = !e.target.checked; });
    $("key-done").addEventListener("click", () => {
      $("recovery").hidden = true; $("recovery-key").textContent = ""; $("recovery-qr").innerHTML = "";
      $("stored-key").checked = false; $("key-done").disabled = true;
    });

    async function enable(target, resolution, key) {
      const body = { target, resolution: resolution || null };
      if (key) body.recovery_key = key;
      if (resolution && pendingHolder) body.expected_generation = pendingHolder.generation;
      const before = pendingHolder;
      const res = await AV.api("POST", "/api/backup/enable", body);
      $("conflict-changed").hidden = true;
      if (resolution === "restore") {
        $("conflict-key").value = "";
        await load(false);
        result(restoredText(S, res));
        return;
      }
      render(res);
      const parts = [];
      if (resolution === "merge") {
        const from = (before && before.device_name) || "";
        parts.push(res.added.length ? plural(S, "merged_added", res.added.length, { device: from }) : fill(S.merged_none, { device: from }));
        parts.push(fill(S.now_backs_up, { accounts: counted(S, res.count) }));
      }
      if (res.displaced) parts.push(fill(S.told, { device: res.displaced.device_name }));
      if (!res.recovery_key_new && resolution) parts.push(fill(S.kept_key, { key: keyOf(S, { key_origin: res.key_origin }) }));
      result(sentences(parts));
      if (res.recovery_key) {
        let why = S.first_key;
        if (resolution === "replace") why = before && before.key_origin ? fill(S.new_key_replace, { device: before.key_origin.device_name }) : S.new_key_plain;
        showRecovery(res, why);
      }
    }

    async function currentCount() {
      try { myCount = (await AV.api("GET", "/api/codes")).accounts.length; } catch (e) { myCount = 0; }
    }

    enableForm.addEventListener("submit", async (ev) => {
      ev.preventDefault(); AV.showError(enableForm, ""); AV.busy(enableForm, true); result("");
      const target = targetOf(enableForm);
      await currentCount();
      pendingHolder = null;
      try { await enable(target, null); }
      catch (e) {
        if (e.code === "backup_taken" && e.body) {
          showConflict(e.body.error.holder, target, "taken");
          $("key-form").hidden = true; $("conflict-changed").hidden = true;
          $("conflict").scrollIntoView({ behavior: "smooth", block: "start" });
        } else AV.showError(enableForm, e.message);
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

    async function doReplace() {
      try { await enable(pendingTarget, "replace"); }
      catch (e) {
        if (e.code === "backup_taken" && e.body && e.body.error.expected_generation != null) showChanged(e.body.error.holder);
        else if (e.code === "backup_taken" && e.body) showConflict(e.body.error.holder, pendingTarget, side);
        else AV.toast(e.message, 4000);
      }
    }

    for (const b of document.querySelectorAll("#conflict .choice")) {
      b.addEventListener("click", async () => {
        chosen = b.dataset.choice; result("");
        $("conflict-changed").hidden = true;
        if (chosen === "cancel") { $("conflict").hidden = true; $("key-form").hidden = true; await load(false); return; }
        if (chosen === "other") {
          $("conflict").hidden = true; enableForm.hidden = false;
          enableForm.scrollIntoView({ behavior: "smooth" }); return;
        }
        if (chosen === "replace") { $("key-form").hidden = true; await doReplace(); return; }
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
        /* Never swallowed, and the typed key stays in its field. */
        if (e.code === "backup_taken" && e.body && e.body.error.expected_generation != null) showChanged(e.body.error.holder);
        else if (e.code === "backup_taken" && e.body) { showConflict(e.body.error.holder, pendingTarget, side); AV.showError(form, e.message); }
        else AV.showError(form, e.message);
      }
      AV.busy(form, false);
    });

    /* Turning off asks: keep the backup at the backup account, or delete it. */
    $("disable-btn").addEventListener("click", () => {
      $("disable-ask").hidden = false; $("disable-btn").hidden = true;
      const st = lastStatus || {};
      const notMine = st.state === "replaced" && st.holder;
      $("off-delete").hidden = Boolean(notMine);
      if (notMine) $("off-keep").querySelector("small").textContent = fill(S.off_not_mine, { device: st.holder.device_name });
      $("off-keep").focus();
    });
    $("off-cancel").addEventListener("click", () => { $("disable-ask").hidden = true; $("disable-btn").hidden = false; });
    async function turnOff(del) {
      AV.showError($("disable-ask"), "");
      try {
        render(await AV.api("POST", "/api/backup/disable", { delete_remote: del }));
        result(del ? S.off_deleted : S.off_kept);
      } catch (e) { AV.showError($("disable-ask"), e.message); }
    }
    $("off-keep").addEventListener("click", () => turnOff(false));
    $("off-delete").addEventListener("click", () => turnOff(true));

    load(true).catch((e) => { $("status-text").textContent = e.message; });
  }

  /* Restore onto this device: look first (whose, when, how many), then the recovery key. */
  function restorePage() {
    const S = AV.T;
    const $ = (id) => document.getElementById(id);
    const form = $("restore-form");
    wireKinds(form);
    wireShowKeys(S);
    let target = null;
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault(); AV.showError(form, ""); AV.busy(form, true);
      try {
        target = targetOf(form);
        const { holder } = await AV.api("POST", "/api/backup/inspect", { target });
        $("found").hidden = false;
        $("found-text").textContent = fill(S.found, { device: holder.device_name, accounts: counted(S, holder.count), when: when(holder.updated_at) });
        $("key-label").textContent = keyLabel(S, holder);
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
        $("done-text").textContent = restoredText(S, r);
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
