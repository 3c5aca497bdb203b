/* Send to another device and the inbox of what other devices sent (sealed to the receiving
   device: the server cannot read them). */
"use strict";

(function () {
  const AV = window.AuthVault;
  const $ = (id) => document.getElementById(id);
  const L = () => AV.T;
  const { fill, el, labelOf, row, skippedRows, when } = AV;   // static/js/core.js

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
        const li = row(fill(t.waiting, { n: tr.count, device: tr.to.name }), when(tr.created_at));
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
      sec.appendChild(el("p", "hint", when(tr.created_at)));
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

  AV.pages.send = sendPage;
  AV.pages.inbox = inboxPage;
})();
