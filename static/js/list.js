/* AuthVault: the account list. No framework, no build step.

   renderList(container, accounts, state) draws the rows of `accounts` into `container` (a <ul>):
   - `accounts` are objects shaped like GET /api/codes's "accounts": id, issuer, name, type, digits,
     period, code, next_code, note, group, favorite, icon, action_required, counter. Fields left out
     take their defaults ("" / false / null), as the page's embedded JSON leaves them out. The codes
     may come from the server or be computed in the browser (the offline view): the renderer only
     shows them.
   - `state` says how: {query, group ("" = all, "\u2605" = favourites, else a group name), sort
     ("manual" | "az" | "recent"), showNext, hideCodes, revealed (Set of ids), arranging, used
     ({id: last copy time}), highlight (Set of ids), sprite (the URL of an SVG sprite holding the
     icons: spriteURL(base, accounts) gives the one of just the icons these accounts show)}.
     Missing fields take the defaults of defaultState().
   It returns a view: {rows: Map id -> <li>, order: [ids as drawn], setCodes(accounts), tick(now),
   near(id) -> whether its row is on or near the screen, filter(query, group) -> number of rows shown}. Drawing is one innerHTML of small rows (about
   400 bytes each); searching and code refreshes change rows in place, never redraw them.
   The page that uses it (listPage below) wires taps, search, chips, arranging and the clock.
*/
"use strict";

(function () {
  const AV = window.AuthVault;
  // this page's strings (templates/accounts/list.html, keys list_*), in core.js's one dictionary
  const T = AV.T || {};
  const L = new Proxy({}, { get: (_, k) => T["list_" + String(k)] || "" });
  const ICONS = window.AuthVaultIcons || { slugs: {}, aliases: {} };
  const FAV = "\u2605";

  const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ESC[c]);
  const fmt = (text, params) => AV.fill(String(text || ""), params);   // core.js: "{name}" filled in

  function defaultState() {
    return { query: "", group: "", sort: "manual", showNext: false, hideCodes: false, revealed: new Set(),
             arranging: false, used: {}, highlight: new Set(), sprite: "" };
  }

  /* ---- searching ---------------------------------------------------------------------------- */
  // Lower case, width-folded (NFKC: full-width letters and half-width kana match), accents dropped.
  function fold(text) {
    return String(text || "").normalize("NFKC").toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }
  function haystack(a) { return fold([a.issuer, a.name, a.note, a.group].join("\u0001")); }

  /* ---- icons -------------------------------------------------------------------------------- */
  // The key of an issuer: letters and digits only ("GitHub, Inc." -> "githubinc").
  const key = (s) => fold(s).replace(/[^a-z0-9]/g, "");
  /** The bundled icon of an issuer: its slug, or null (the row shows a coloured initial). */
  function matchIcon(issuer) {
    const text = fold(issuer).trim();
    if (!text) return null;
    const tries = [key(text)];
    // "accounts.google.com", "login.microsoftonline.com": the name before the top-level domain
    const host = text.match(/^(?:[a-z0-9-]+\.)*?([a-z0-9-]+)\.[a-z]{2,}(?:\.[a-z]{2})?$/);
    if (host) tries.push(key(host[1]));
    const first = text.split(/[\s:(,/|@-]+/)[0];
    if (first) tries.push(key(first));
    for (const k of tries) {
      if (!k) continue;
      if (k in ICONS.aliases) return ICONS.aliases[k];
      if (k in ICONS.slugs) return k;
    }
    return null;
  }
  const matched = new Map();                      // issuer -> slug: a list draws its issuers again and again
  /** The icon an account shows: the one chosen on its edit page, else its issuer's; null for its initial. */
  function slugOf(a) {
    if (a.icon === "letter") return null;
    if (a.icon && a.icon in ICONS.slugs) return a.icon;
    const issuer = a.issuer || "";
    if (!matched.has(issuer)) matched.set(issuer, matchIcon(issuer));
    return matched.get(issuer);
  }
  /** The URL of a sprite holding just the icons these accounts show (authvault/web/icons.py):
      `base` (the page's data-sprite) plus their slugs, sorted, so the same icons give the same
      URL, cached for good. "" when none shows an icon. */
  function spriteURL(base, accounts) {
    if (!base) return "";
    const slugs = [...new Set((accounts || []).map(slugOf).filter(Boolean))].sort();
    return slugs.length ? `${base}${base.includes("?") ? "&" : "?"}s=${slugs.join(".")}` : "";
  }
  /** A coloured initial's hue class: hue-0 .. hue-35 (static/app.css, scripts/icon-table). */
  function hue(text) {
    let h = 0;
    for (const ch of String(text)) h = (h * 31 + ch.codePointAt(0)) % 360;
    return Math.floor(h / 10);
  }
  // Colours are classes (si-<slug>, hue-<n>), not style: the server draws the first rows too
  // (authvault/web/list_rows.py, the same markup), and the page's CSP allows no style attributes.
  function avatar(a, sprite) {
    const title = a.issuer || a.name || "?";
    const slug = slugOf(a);
    if (slug && sprite) {
      return `<span class="av icon-av si-${slug}" data-icon="${slug}" aria-hidden="true">` +
        `<svg viewBox="0 0 24 24"><use href="${esc(sprite)}#si-${slug}"></use></svg></span>`;
    }
    const letter = Array.from(title.trim())[0] || "?";
    return `<span class="av letter-av hue-${hue(key(title) || title)}" aria-hidden="true">${esc(letter.toUpperCase())}</span>`;
  }

  /* ---- codes -------------------------------------------------------------------------------- */
  const group = (c) => (AV && AV.groupCode ? AV.groupCode(c) : c || "");
  const masked = (a) => "\u2022".repeat(a.digits || 6).replace(/^(\u2022{3})(\u2022{3})$/, "$1 $2");

  function sorted(accounts, state) {
    const list = accounts.slice();
    if (!state.arranging && state.sort === "az") {
      const coll = new Intl.Collator(document.documentElement.lang || undefined, { sensitivity: "base", numeric: true });
      list.sort((x, y) => coll.compare(x.issuer || x.name || "", y.issuer || y.name || "") ||
                          coll.compare(x.name || "", y.name || ""));
    } else if (!state.arranging && state.sort === "recent") {
      const used = state.used || {};
      list.sort((x, y) => (used[y.id] || 0) - (used[x.id] || 0));   // stable: unused keep their order
    }
    // favourites pinned at the top, in the same order among themselves
    return list.filter((a) => a.favorite).concat(list.filter((a) => !a.favorite));
  }

  function rowHTML(a, state) {
    const title = a.issuer || a.name || "—";
    const label = a.issuer && a.name ? `<div class="label">${esc(a.name)}</div>` : "";
    const fav = a.favorite ? `<span class="fav-mark" title="${esc(L.favourite)}">${FAV}</span>` : "";
    const cls = "acct" + (a.action_required ? " needs-action" : "") + (a.favorite ? " is-fav" : "") +
      ((a.digits || 6) > 6 ? " long-code" : "") + (state.showNext && a.type !== "hotp" ? " with-next" : "") +
      (state.highlight && state.highlight.has(a.id) ? " new" : "");
    let body;
    if (a.action_required) {
      body = `<p class="action">${esc(fmt(L.action, { issuer: title }))}</p><a class="btn small" href="/add">${esc(L.scan)}</a>`;
    } else {
      const hidden = state.hideCodes && !(state.revealed && state.revealed.has(a.id));
      const shown = hidden ? masked(a) : group(a.code);
      const timer = a.type === "hotp"
        ? `<button type="button" class="btn small next-hotp">${esc(L.next_code)}</button><span class="counter">#${a.counter == null ? "" : a.counter}</span>`
        : `<span class="ring" aria-hidden="true"><span class="secs"></span></span>`;
      const next = a.type !== "hotp" && state.showNext && !hidden
        ? `<span class="next">${esc(L.next)} <span class="next-code">${esc(group(a.next_code))}</span></span>` : "";
      body = `<button type="button" class="code${hidden ? " masked" : ""}" data-code="${esc(a.code || "")}" aria-label="${esc(L.copy)}: ${esc(title)}">${esc(shown)}</button>` +
        `<div class="meta">${next}${timer}</div>`;
    }
    // the drag handle and the move buttons only while arranging (arranging draws the list again):
    // a third of a row's elements, which every row would carry for nothing
    const arranging = !!state.arranging;
    return `<li class="${cls}" data-id="${esc(a.id)}" data-type="${esc(a.type)}" data-period="${a.period || ""}">` +
      (arranging ? `<span class="drag" aria-hidden="true" title="${esc(L.drag)}">\u2630</span>` : "") + avatar(a, state.sprite) +
      `<div class="acct-text"><div class="issuer">${esc(title)}${fav}</div>${label}</div>${body}` +
      `<div class="row-actions"><a class="link edit-link" href="/accounts/${esc(a.id)}" aria-label="${esc(L.edit)}: ${esc(title)}"><span class="dots" aria-hidden="true">⋯</span><span class="t">${esc(L.edit)}</span></a>` +
      (arranging ? `<span class="move"><button type="button" class="icon-btn fav-btn" aria-pressed="${a.favorite ? "true" : "false"}" aria-label="${esc(L.favourite)}">${FAV}</button>` +
      `<button type="button" class="icon-btn move-top" aria-label="${esc(L.top)}">\u2912</button>` +
      `<button type="button" class="icon-btn move-up" aria-label="${esc(L.up)}">\u25B2</button>` +
      `<button type="button" class="icon-btn move-down" aria-label="${esc(L.down)}">\u25BC</button></span>` : "") + `</div></li>`;
  }

  const FIRST_SCREEN = 24;                        // rows a tablet shows before any scrolling
  const FILTER_SLICE = 150;                       // rows a filter changes per task below the first screenful
  const observers = new WeakMap();                // list -> the IntersectionObserver of its rows
  // A list longer than WINDOW_FROM rows keeps in the page only the first rows the filter shows
  // (a screenful, FIRST_SCREEN, then more after each frame as far as a screen and a half below
  // the screen, and more as it is scrolled; a spacer below stands for the rest): a
  // keystroke, a countdown tick and each frame then cost what those rows do, not 1000 rows of
  // style, layout, intersections and compositing (at 1000 rows, 4x CPU: 25-45 ms a keystroke,
  // frames of 50-70 ms after it). Not while arranging: dragging needs every row.
  const WINDOW_FROM = 120;
  const windows = new WeakMap();                  // list -> {size, key, view, reach}: kept when drawn again
  function renderList(container, accounts, state) {
    state = Object.assign(defaultState(), state || {});
    const order = sorted(accounts || [], state);
    const windowed = order.length > WINDOW_FROM && !state.arranging && typeof IntersectionObserver === "function";
    const holder = windowed ? document.createElement("ul") : container;   // windowed: rows wait here, out of the page
    holder.innerHTML = order.map((a) => rowHTML(a, state)).join("");
    if (windowed) container.textContent = "";
    const rows = new Map(), hay = [], byPeriod = new Map(), byId = new Map(), timers = new Map(), at = new Map();
    let filtering = 0;                            // the latest filter (an older one's slices stop)
    const showing = new Array(order.length).fill(true);   // each row's `!hidden`, kept here: no DOM read per row
    let i = 0;
    for (const li of holder.children) {
      const a = order[i];
      at.set(li, i++);
      rows.set(a.id, li);
      byId.set(a.id, a);
      hay.push([li, haystack(a), a]);
      if (a.type !== "hotp" && !a.action_required && a.period) {
        if (!byPeriod.has(a.period)) byPeriod.set(a.period, { f: "1", text: "", ending: false });
        const secs = li.querySelector(".secs");
        timers.set(li, { g: byPeriod.get(a.period), secs, ring: secs.parentNode, f: null, text: null, ending: null });
      }
    }
    // Only the rows on screen (and half a screen around it) follow the clock: one value changed
    // for every row restyled the whole list four times a second (at 1000 rows on a slow phone,
    // 70-300 ms each time). A row coming into view is brought up to date at once.
    const near = new Set();
    if (observers.has(container)) observers.get(container).disconnect();
    const io = typeof IntersectionObserver === "function" ? new IntersectionObserver((entries) => {
      for (const e of entries) {
        if (e.isIntersecting) { near.add(e.target); paintClock(e.target); } else near.delete(e.target);
      }
    }, { rootMargin: "50% 0px" }) : null;
    observers.set(container, io);
    if (io && !windowed) for (const li of timers.keys()) io.observe(li);

    /* ---- the window of a long list ---- */
    const win = windows.get(container) || { size: 0, key: null };
    windows.set(container, win);
    if (win.reach) win.reach.disconnect();
    win.reach = null;
    let matches = [];                             // the indices of the rows the filter shows
    let size = Math.max(FIRST_SCREEN, win.size);  // how many of them are in the page (drawn again: as many as before)
    let lineH = win.lineH || 0, cols = win.cols || 1, fitting = false;   // a line of rows (measured), rows per line
    // the rows a screen holds (once measured; before, FIRST_SCREEN): what a keystroke puts in at once
    const screenful = () => (lineH ? Math.min(FIRST_SCREEN, (Math.ceil(innerHeight / lineH) + 1) * cols) : FIRST_SCREEN);
    const spacer = windowed ? document.createElement("li") : null;
    if (spacer) {
      spacer.className = "list-rest";
      spacer.setAttribute("aria-hidden", "true");
      container.appendChild(spacer);
    }
    /* The page holds the first `size` matches, in order, and the spacer: one pass over both. */
    function place() {
      const count = Math.min(size, matches.length);
      let node = container.firstElementChild, k = 0;
      while (node !== spacer || k < count) {
        const want = k < count ? matches[k] : Infinity;
        if (node !== spacer && at.get(node) < want) {             // not shown any more, or past the window
          const next = node.nextElementSibling;
          node.remove();
          if (io) { io.unobserve(node); near.delete(node); }
          node = next;
        } else if (node !== spacer && at.get(node) === want) {
          node = node.nextElementSibling; k++;
        } else {
          const li = hay[want][0];
          if (li.hidden) li.hidden = false;
          container.insertBefore(li, node);
          if (io && timers.has(li)) io.observe(li);
          k++;
        }
      }
      rest();
    }
    let restHeight = "";
    function rest() {                             // the spacer: as tall as the matches not in the page would be
      const left = matches.length - Math.min(size, matches.length);
      if (spacer.hidden !== !left) spacer.hidden = !left;
      const h = Math.ceil(left / cols) * (lineH || (document.body.classList.contains("compact") ? 68 : 160)) + "px";
      if (left && h !== restHeight) { restHeight = h; spacer.style.setProperty("height", h); }
    }
    /* After a frame's layout: measure a line of rows, and put more rows in while the spacer is
       within a screen and a half of the bottom of the screen (after a filter, and each time the
       spacer comes that near: a scroll, a resize, rows above it growing or shrinking). */
    function fit() {
      fitting = false;
      if (win.view !== view || !spacer.isConnected) return;   // drawn again, or gone
      const count = Math.min(size, matches.length);
      if (count) {
        const css = getComputedStyle(container);
        cols = Math.max(1, css.gridTemplateColumns.split(" ").length);
        const top = hay[matches[0]][0].getBoundingClientRect().top;
        const bottom = spacer.previousElementSibling.getBoundingClientRect().bottom;
        lineH = win.lineH = (bottom - top + (parseFloat(css.rowGap) || 0)) / Math.ceil(count / cols);
        win.cols = cols;
      }
      if (count < matches.length) {
        const at = spacer.getBoundingClientRect().top, reach = innerHeight * 2.5 - at;
        if (reach > 0) {
          // the screen shows the spacer (a fling, a jump): the rows it needs at once; else a screenful a frame
          const need = Math.ceil(reach / (lineH || 60)) * cols;
          size = count + Math.max(cols, at < innerHeight ? need : Math.min(need, screenful()));
          win.size = size;
          place();
          schedule();
          return;
        }
      }
      rest();                                    // its height from the lines measured
    }
    function schedule() {
      if (!fitting) { fitting = true; requestAnimationFrame(fit); }
    }
    if (windowed) {
      win.reach = new IntersectionObserver((entries) => { if (entries.some((e) => e.isIntersecting)) schedule(); },
                                           { rootMargin: "0px 0px 150% 0px" });
      win.reach.observe(spacer);
    }
    let ticked = false;
    function paintClock(li) {
      const t = timers.get(li);
      if (!t) return;
      const g = t.g;
      // on the ring itself: set on the row, the value restyled each of its 20 elements
      if (t.f !== g.f) { t.f = g.f; t.ring.style.setProperty("--f", g.f); }
      if (t.text !== g.text) { t.text = g.text; t.secs.textContent = g.text; }
      if (t.ending !== g.ending) { t.ending = g.ending; li.classList.toggle("ending", g.ending); }
    }
    const view = {
      rows, order: order.map((a) => a.id), accounts: order,
      /** Show these codes (same ids; a changed id list needs renderList again). */
      setCodes(list) {
        for (const a of list) {
          const li = rows.get(a.id);
          if (!li || a.action_required) continue;
          const btn = li.querySelector(".code");
          if (!btn) continue;
          const known = byId.get(a.id);
          if (known && a.code) Object.assign(known, { code: a.code, next_code: a.next_code, counter: a.counter });
          if (!a.code) continue;                      // never a blank code: keep the last one shown
          btn.dataset.code = a.code;
          li.classList.remove("no-code");
          if (!btn.classList.contains("masked")) btn.textContent = group(a.code);
          const n = li.querySelector(".next-code");
          if (n) n.textContent = group(a.next_code);
          const c = li.querySelector(".counter");
          if (c && a.counter != null) c.textContent = "#" + a.counter;
        }
      },
      /** No current code known (the server out of reach past the known next code): "—", nothing to
          copy, no countdown; never an old code, never a blank one. setCodes brings it back. */
      noCode(id) {
        const li = rows.get(id);
        const btn = li && li.querySelector(".code");
        if (!btn) return;
        btn.textContent = "\u2014";
        delete btn.dataset.code;
        li.classList.add("no-code");
      },
      /** Whether this account's row is on or near the screen (the rows the countdown is drawn on). */
      near(id) { return !io || near.has(rows.get(id)); },
      /** Countdown of every period at clock time `now` (seconds), drawn on the rows near the
          screen (every row the first time). */
      tick(now) {
        for (const [period, g] of byPeriod) {
          const left = period - (now % period);
          g.f = (left / period).toFixed(3);
          g.text = String(Math.ceil(left - 1e-6) || period);
          g.ending = left <= 5;
        }
        for (const li of (io && ticked ? near : timers.keys())) paintClock(li);
        ticked = true;
      },
      /** Show the rows whose issuer, name, note or group holds `query` (and in `grp`); count them.
          A long list: the first of them go in the page (as many as before when the filter is the
          same, e.g. drawn again after a code refresh), the rows leaving first, so that only rows
          out of the page change their `hidden`. Else the rows down to the first screenful of
          matches change now; the rows below, after that frame is painted, a slice per task (at
          1000 rows, showing or hiding them all at once cost a slow phone 30-130 ms of style and
          layout per keystroke). */
      filter(query, grp) {
        const q = fold(query).trim();
        const words = q ? q.split(/\s+/) : [];
        const want = new Array(hay.length);
        let shown = 0, now = hay.length;
        for (let i = 0; i < hay.length; i++) {
          const [, h, a] = hay[i];
          let ok = !grp || (grp === FAV ? a.favorite : a.group === grp);
          if (ok) for (const w of words) if (!h.includes(w)) { ok = false; break; }
          want[i] = ok;
          if (ok && ++shown === FIRST_SCREEN) now = i + 1;
        }
        if (windowed) {
          const filterKey = q + "\u0001" + (grp || "");
          if (win.key !== null && win.key !== filterKey) {          // another filter: its rows from the first
            size = screenful();
            if (container.getBoundingClientRect().top < 0) scrollTo(0, 0);
          }
          win.key = filterKey;
          matches = [];
          for (let i = 0; i < hay.length; i++) if (want[i]) matches.push(i);
          if (state.highlight && state.highlight.size) {                   // the accounts just added are in the page
            for (let k = matches.length - 1; k >= size; k--) {
              if (state.highlight.has(hay[matches[k]][2].id)) { size = k + 1; break; }
            }
          }
          win.size = size;
          place();
          for (let i = 0; i < hay.length; i++) if (showing[i] !== want[i]) { showing[i] = want[i]; hay[i][0].hidden = !want[i]; }
          schedule();
          return shown;
        }
        const gen = ++filtering;
        const apply = (from, to) => {
          for (let i = from; i < to; i++) if (showing[i] !== want[i]) { showing[i] = want[i]; hay[i][0].hidden = !want[i]; }
        };
        apply(0, now);
        const slice = (from) => {
          if (gen !== filtering) return;              // a newer filter took over
          const to = Math.min(hay.length, from + FILTER_SLICE);
          apply(from, to);
          if (to < hay.length) setTimeout(() => slice(to), 0);
        };
        if (now < hay.length) requestAnimationFrame(() => setTimeout(() => slice(now), 0));
        return shown;
      },
    };
    win.view = view;
    view.filter(state.query, state.group);
    return view;
  }

  /* ---- preferences of this browser (not secret: no names, no codes) ------------------------ */
  const PREFS_KEY = "authvault.list", USED_KEY = "authvault.used";
  function loadJSON(k, fallback) {
    try { const v = JSON.parse(localStorage.getItem(k) || "null"); return v && typeof v === "object" ? v : fallback; }
    catch (e) { return fallback; }
  }
  function prefs() {
    const p = Object.assign({ layout: "auto", showNext: false, hideCodes: false, sort: "manual" }, loadJSON(PREFS_KEY, {}));
    p.compact = p.layout === "compact" || (p.layout === "auto" && matchMedia("(max-width: 759px)").matches);
    return p;
  }
  function savePrefs(change) {
    const p = Object.assign(loadJSON(PREFS_KEY, {}), change);
    try { localStorage.setItem(PREFS_KEY, JSON.stringify(p)); } catch (e) { /* private mode */ }
    mirrorPrefs(prefs());
  }
  /* The server draws the list's first screenful itself when it knows these options (and so how
     the rows look here: authvault/web/list_rows.py): a cookie of them, the layout resolved for
     this screen, written each time the list runs. */
  function mirrorPrefs(p) {
    const value = `c${p.compact ? 1 : 0}.h${p.hideCodes ? 1 : 0}.n${p.showNext ? 1 : 0}.${p.sort}`;
    document.cookie = `authvault_list=${value}; Path=/; Max-Age=31536000; SameSite=Strict` +
      (location.protocol === "https:" ? "; Secure" : "");
  }

  /* ---- the list page ------------------------------------------------------------------------ */
  function pageArrivalTime() {
    const nav = performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
    if (nav && nav.responseStart > 0 && performance.timeOrigin) {
      const at = performance.timeOrigin + nav.responseStart;
      if (at <= Date.now() && Date.now() - at < 60000) return at / 1000;
    }
    return Date.now() / 1000;
  }

  /* While HOTP counters used offline wait to be reported to the server (static/js/connection.js),
     the list must not show a HOTP code that may already be used (offline.css hides them). */
  function hotpGuard() {
    let pending = false;
    try { pending = localStorage.getItem("authvault-hotp-pending") === "1"; } catch (e) { /* storage blocked: nothing was recorded either */ }
    document.documentElement.classList.toggle("hotp-pending", pending);   // the server's class, from the cookie, too
    // the server hides them in the rows it draws when told so (static/js/offline-store.js sets it too)
    if (pending !== /(?:^|; )authvault_hotp_pending=1/.test(document.cookie)) {
      document.cookie = "authvault_hotp_pending=" + (pending ? "1; Max-Age=31536000" : "; Max-Age=0") + "; Path=/; SameSite=Strict" +
        (location.protocol === "https:" ? "; Secure" : "");
    }
  }

  /** The list page; `arrivedAt` (seconds, this device's clock) is when its HTML arrived when it
      came by fetch after an unlock (core.js showUnlocked), not by navigation. */
  let painted = false;                            // the server's rows have had their first frame
  function listPage(initial, arrivedAt) {
    const list = document.getElementById("accounts");
    if (!list || list.dataset.started) return;    // started by this script already (see the end)
    if (list.dataset.first && !painted && initial === undefined && arrivedAt === undefined) {
      // The server drew the first screenful: let the browser paint it before any work here (the
      // rows are drawn again below, the same). Until then a tap on a row does nothing.
      if (!list.dataset.waiting) {
        list.dataset.waiting = "1";
        requestAnimationFrame(() => setTimeout(() => { painted = true; listPage(); }, 0));
      }
      return;
    }
    list.dataset.started = "1";
    const data = initial || JSON.parse(document.getElementById("codes-data").textContent);
    const search = document.getElementById("search");
    const chips = document.getElementById("chips");
    const noMatch = document.getElementById("no-match");
    const arrangeBar = document.getElementById("arrange-bar");
    const p = prefs();
    document.body.classList.toggle("compact", p.compact);
    mirrorPrefs(p);
    let accounts = data.accounts;
    let groups = data.groups || [];
    const params = new URLSearchParams(location.search);
    const added = new Set((params.get("added") || "").split(",").filter(Boolean));
    const state = Object.assign(defaultState(), {
      sort: p.sort, showNext: p.showNext, hideCodes: p.hideCodes, used: loadJSON(USED_KEY, {}),
      highlight: added,
      query: search ? search.value : "",
    });
    let view = null;
    let offset = data.server_time - (arrivedAt || pageArrivalTime());
    const clock = new Map();                      // id -> {boundary, period, code, next}

    function remember(list, serverTime) {
      for (const a of list) {
        if (a.type === "hotp" || a.action_required || !a.period) continue;
        const boundary = (Math.floor(serverTime / a.period) + 1) * a.period;
        clock.set(a.id, { boundary, period: a.period, code: a.code, next: a.next_code });
      }
    }

    const spriteBase = arrangeBar ? arrangeBar.dataset.sprite : "";
    function draw() {
      state.sprite = spriteURL(spriteBase, accounts);
      view = renderList(list, accounts, state);
      list.classList.toggle("reordering", state.arranging);
      drawChips();
      applyFilter();
      tick();
    }

    let onlyRow = null;                            // the row marked as the single match
    function applyFilter() {
      const shown = view.filter(state.query, state.group);
      const single = shown === 1 && !!state.query;
      noMatch.hidden = (shown > 0 && !single) || !accounts.length;
      noMatch.classList.toggle("hint-only", single);
      if (!noMatch.hidden) noMatch.textContent = single ? L.one_match : fmt(L.no_match, { query: state.query });
      if (onlyRow) onlyRow.classList.remove("only");   // in the page or not (a long list keeps some out)
      onlyRow = null;
      if (shown === 1 && (state.query || state.group)) {
        onlyRow = [...view.rows.values()].find((li) => !li.hidden) || null;
        if (onlyRow) onlyRow.classList.add("only");
      }
      return shown;
    }

    function drawChips() {
      if (!chips) return;
      const favs = accounts.some((a) => a.favorite);
      const items = [["", L.all]];
      if (favs) items.push([FAV, FAV + " " + L.favourites]);
      for (const g of groups) items.push([g.name, g.name]);
      if (state.group && !items.some((it) => it[0] === state.group)) state.group = "";
      chips.innerHTML = items.map(([v, t]) =>
        `<button type="button" class="chip" data-group="${esc(v)}" aria-pressed="${state.group === v}">${esc(t)}</button>`).join("") +
        `<label class="visually-hidden" for="sort">${esc(L.sort)}</label>` +
        `<select id="sort" class="chip chip-select">${[["manual", L.sort_manual], ["az", L.sort_az], ["recent", L.sort_recent]]
          .map(([v, t]) => `<option value="${v}"${state.sort === v ? " selected" : ""}>${esc(t)}</option>`).join("")}</select>` +
        (accounts.length > 1 ? `<button type="button" class="chip chip-tool" id="reorder-btn" aria-pressed="${state.arranging}">${esc(L.arrange)}</button>` : "") +
        `<button type="button" class="chip chip-tool" id="groups-btn">${esc(L.edit_groups)}</button>`;
      chips.hidden = !accounts.length;
    }

    function tick() {
      const now = Date.now() / 1000 + offset;
      let needFetch = false, soonest = Infinity;
      for (const [id, s] of clock) {
        if (now >= s.boundary) {                  // flip to the next code without a request
          const validUntil = s.boundary + s.period;           // the "next" code is good for one period
          s.code = s.next; s.next = null;
          if (s.code && now < validUntil) {
            s.boundary = validUntil;
            view.setCodes([{ id, code: s.code, next_code: "" }]);
          } else {                                            // nothing fresh: never an old code
            s.code = null;
            s.boundary = (Math.floor(now / s.period) + 1) * s.period;
            view.noCode(id);
          }
          needFetch = true;
        }
        soonest = Math.min(soonest, s.boundary);
      }
      view.tick(now);
      if (needFetch) setTimeout(refresh, 300);
      const wait = (soonest - (Date.now() / 1000 + offset)) * 1000;
      if (wait < 250 && !flipTimer) flipTimer = setTimeout(() => { flipTimer = null; tick(); }, Math.max(0, wait) + 2);
    }
    let flipTimer = null;

    const connection = () => AV.connection;                // static/js/connection.js: the banner
    let fetching = false, activeSinceFetch = false;
    for (const ev of ["pointerdown", "keydown", "scroll"]) addEventListener(ev, () => { activeSinceFetch = true; }, { passive: true });
    async function refresh() {
      if (fetching) return;
      fetching = true;
      try {
        const fresh = await AV.api("GET", "/api/codes", undefined, activeSinceFetch ? {} : { "X-AuthVault-Idle": "1" });
        activeSinceFetch = false;
        offset = fresh.server_time - Date.now() / 1000;
        remember(fresh.accounts, fresh.server_time);
        const same = fresh.accounts.length === accounts.length &&
          fresh.accounts.every((a) => { const li = view.rows.get(a.id); return li && !!a.action_required === li.classList.contains("needs-action"); });
        const meta = (x) => JSON.stringify([x.issuer, x.name, x.group || "", !!x.favorite, x.icon || null, x.note || ""]);
        const byId = new Map(accounts.map((a) => [a.id, a]));
        const changed = !same || fresh.accounts.some((a) => meta(a) !== meta(byId.get(a.id))) ||
          JSON.stringify(fresh.groups || []) !== JSON.stringify(groups);
        accounts = fresh.accounts; groups = fresh.groups || [];
        if (changed && !state.arranging) draw(); else view.setCodes(fresh.accounts);
        if (connection()) connection().ok();
      } catch (e) {
        if (e.status === 401) { location.href = "/"; return; }   // locked meanwhile (idle timeout)
        // no answer, or a proxy's 502/503/504: the server is out of reach (banner, retries)
        if ((!e.status || e.status >= 502) && connection()) connection().failed(refresh);
      } finally { fetching = false; }
    }

    remember(accounts, data.server_time);
    hotpGuard();
    if (accounts.length > FIRST_SCREEN && !state.query && !added.size) {
      // The first screenful now, the whole list right after that frame is painted: the first codes
      // do not wait for the rows below the fold (146 ms at 1000 accounts on a slow phone).
      state.sprite = spriteURL(spriteBase, accounts);   // the sprite of the whole list: fetched once
      view = renderList(list, sorted(accounts, state).slice(0, FIRST_SCREEN), state);
      drawChips();
      tick();
      requestAnimationFrame(() => setTimeout(() => { if (!state.arranging) draw(); }, 0));
    } else draw();
    setInterval(tick, 250);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
    addEventListener("pageshow", (ev) => { if (ev.persisted) refresh(); });

    // After adding: back on the list with the new accounts marked, and a toast naming them.
    if (added.size) {
      const names = accounts.filter((a) => added.has(a.id)).map((a) => a.issuer || a.name);
      if (names.length) AV.toast(names.length === 1 ? fmt(L.added_one, { label: names[0] }) : fmt(L.added_many, { num: names.length }), 3500);
      const first = view.rows.get([...added].find((id) => view.rows.has(id)));
      if (first) requestAnimationFrame(() => first.scrollIntoView({ block: "center" }));
      history.replaceState(null, "", location.pathname);
      setTimeout(() => { for (const li of view.rows.values()) li.classList.remove("new"); state.highlight = new Set(); }, 6000);
    }

    async function copyRow(li) {
      const btn = li.querySelector(".code");
      if (!btn) return;
      const a = accounts.find((x) => x.id === li.dataset.id);
      const label = a ? a.issuer || a.name : "";
      if (btn.classList.contains("masked")) {
        state.revealed.add(li.dataset.id);
        btn.classList.remove("masked");
        btn.textContent = group(btn.dataset.code);
        setTimeout(() => { state.revealed.delete(li.dataset.id); btn.classList.add("masked"); btn.textContent = masked(a || {}); }, 20000);
      }
      const code = btn.dataset.code;
      if (!code) { AV.toast(AV.T.network, 3500); return; }    // never "null" on the clipboard
      try { await AV.copyText(code); AV.toast(fmt(L.copied, { label })); } catch (e) { AV.toast(AV.T.copy_failed, 3000); return; }
      state.used[li.dataset.id] = Date.now();
      try { localStorage.setItem(USED_KEY, JSON.stringify(state.used)); } catch (e) { /* private mode */ }
    }

    async function saveOrder(focusSel, li) {
      const ids = [...list.children].map((x) => x.dataset.id);
      const byId = new Map(accounts.map((a) => [a.id, a]));
      accounts = ids.map((id) => byId.get(id)).filter(Boolean);
      try { await AV.api("POST", "/api/accounts/order", { ids }); } catch (e) { AV.toast(e.message, 3500); }
      if (focusSel && li) { const b = li.querySelector(focusSel); if (b) b.focus(); }
    }

    list.addEventListener("click", async (ev) => {
      const li = ev.target.closest(".acct");
      if (!li) return;
      if (ev.target.closest(".code")) { copyRow(li); return; }
      if (ev.target.closest(".next-hotp")) {
        try {
          const a = await AV.api("POST", `/api/accounts/${li.dataset.id}/next`);
          view.setCodes([a]);
          if (connection()) connection().sync();   // the offline copy must know this counter at once
        } catch (e) { AV.toast(e.message, 3500); }
        return;
      }
      if (ev.target.closest(".fav-btn")) {
        const a = accounts.find((x) => x.id === li.dataset.id);
        try {
          const saved = await AV.api("PATCH", `/api/accounts/${li.dataset.id}`, { favorite: !a.favorite });
          a.favorite = saved.favorite;
          draw();
          const again = view.rows.get(a.id); if (again) again.querySelector(".fav-btn").focus();
        } catch (e) { AV.toast(e.message, 3500); }
        return;
      }
      const top = ev.target.closest(".move-top"), up = ev.target.closest(".move-up"), down = ev.target.closest(".move-down");
      if (top) {
        const isFav = li.classList.contains("is-fav");
        const anchor = [...list.children].find((x) => x.classList.contains("is-fav") === isFav);
        if (anchor && anchor !== li) list.insertBefore(li, anchor);
        const a = accounts.find((x) => x.id === li.dataset.id);
        AV.toast(fmt(L.moved_top, { label: a ? a.issuer || a.name : "" }));
        saveOrder(".move-top", li);
        return;
      }
      if (up || down) {
        const sib = up ? li.previousElementSibling : li.nextElementSibling;
        if (!sib) return;
        if (up) list.insertBefore(li, sib); else list.insertBefore(sib, li);
        saveOrder(up ? ".move-up" : ".move-down", li);
        return;
      }
      if (li.classList.contains("only") && !ev.target.closest("a, button")) copyRow(li);   // the single match
    });

    if (search) {
      search.addEventListener("input", () => { state.query = search.value; applyFilter(); });
      search.addEventListener("keydown", (ev) => {
        if (ev.key !== "Enter") return;
        ev.preventDefault();
        const only = list.querySelector(".acct.only");
        if (only) copyRow(only);
      });
    }

    function loadSortable() {
      if (window.Sortable) return Promise.resolve(window.Sortable);
      return new Promise((resolve, reject) => {
        const s = document.createElement("script");
        s.src = arrangeBar.dataset.sortable; s.onload = () => resolve(window.Sortable); s.onerror = reject;
        document.head.appendChild(s);
      });
    }
    let sortable = null;
    async function arrange(on) {
      state.arranging = on;
      if (on && state.sort !== "manual") { state.sort = "manual"; savePrefs({ sort: "manual" }); }
      draw();
      arrangeBar.hidden = !on;
      if (on) {
        try {
          const Sortable = await loadSortable();
          if (sortable) sortable.destroy();
          sortable = Sortable.create(list, { handle: ".drag", animation: 150, forceFallback: true,
            fallbackTolerance: 4, onEnd: (e) => { if (e.oldIndex !== e.newIndex) saveOrder(); } });
        } catch (e) { /* the buttons still move accounts */ }
      } else if (sortable) { sortable.destroy(); sortable = null; }
    }
    arrangeBar && document.getElementById("arrange-done").addEventListener("click", () => arrange(false));

    chips && chips.addEventListener("click", (ev) => {
      const chip = ev.target.closest(".chip[data-group]");
      if (chip) {
        state.group = chip.dataset.group;
        for (const c of chips.querySelectorAll(".chip[data-group]")) c.setAttribute("aria-pressed", String(c === chip));
        applyFilter();
        return;
      }
      if (ev.target.closest("#reorder-btn")) { arrange(!state.arranging); return; }
      if (ev.target.closest("#groups-btn")) openGroups();
    });
    chips && chips.addEventListener("change", (ev) => {
      if (ev.target.id !== "sort") return;
      state.sort = ev.target.value; savePrefs({ sort: state.sort });
      if (state.arranging && state.sort !== "manual") state.arranging = false, arrangeBar.hidden = true;
      draw();
    });

    /* groups: create, rename, delete */
    const dialog = document.getElementById("groups-dialog");
    function drawGroups() {
      const ul = document.getElementById("groups-list");
      ul.innerHTML = groups.map((g) => `<li data-id="${esc(g.id)}"><span class="group-name">${esc(g.name)}</span>` +
        `<span class="row-buttons"><button type="button" class="btn small rename-group">${esc(L.rename)}</button>` +
        `<button type="button" class="btn small delete-group">${esc(L.delete)}</button></span></li>`).join("");
    }
    function openGroups() {
      drawGroups();
      document.getElementById("groups-error").textContent = "";
      if (dialog.showModal) dialog.showModal(); else dialog.setAttribute("open", "");
    }
    async function groupCall(method, url, body) {
      const err = document.getElementById("groups-error");
      err.textContent = "";
      try {
        const res = await AV.api(method, url, body);
        groups = res.groups.map((g) => ({ id: g.id, name: g.name }));
        drawGroups();
        await refresh();                     // accounts renamed or ungrouped with their group
        draw();
        return res;
      } catch (e) { err.textContent = e.message; return null; }
    }
    if (dialog) {
      document.getElementById("groups-form").addEventListener("submit", (ev) => ev.preventDefault());
      document.getElementById("groups-close").addEventListener("click", () => (dialog.close ? dialog.close() : dialog.removeAttribute("open")));
      document.getElementById("new-group-btn").addEventListener("click", async () => {
        const input = document.getElementById("new-group");
        const name = input.value;
        input.value = "";
        if (!(await groupCall("POST", "/api/groups", { name }))) input.value = input.value || name;
      });
      document.getElementById("new-group").addEventListener("keydown", (ev) => {
        if (ev.key === "Enter") { ev.preventDefault(); document.getElementById("new-group-btn").click(); }
      });
      document.getElementById("groups-list").addEventListener("click", async (ev) => {
        const li = ev.target.closest("li[data-id]");
        if (!li) return;
        const g = groups.find((x) => x.id === li.dataset.id);
        if (ev.target.closest(".rename-group")) {
          const name = prompt(L.rename, g.name);
          if (name && name !== g.name) await groupCall("PATCH", `/api/groups/${g.id}`, { name });
        } else if (ev.target.closest(".delete-group")) {
          if (confirm(fmt(L.delete_group, { name: "“" + g.name + "”" }))) await groupCall("DELETE", `/api/groups/${g.id}`);
        }
      });
    }

    // Once per visit: is the backup still this device's? (told when another device took it over)
    AV.checkBackup().then((st) => {
      if (["off", "on", "pending"].includes(st.state)) return;
      document.getElementById("backup-banner-text").textContent = st.error ? st.error.message : "";
      document.getElementById("backup-banner").hidden = false;
    }).catch(() => {});
  }

  /* ---- Settings: this browser's list options ------------------------------------------------- */
  function listOptions() {
    const form = document.getElementById("list-options");
    if (!form) return;
    const cur = prefs();
    form.layout.value = loadJSON(PREFS_KEY, {}).layout || "auto";
    form.show_next.checked = cur.showNext;
    form.hide_codes.checked = cur.hideCodes;
    form.addEventListener("submit", (ev) => ev.preventDefault());
    form.addEventListener("change", () => {
      savePrefs({ layout: form.layout.value, showNext: form.show_next.checked, hideCodes: form.hide_codes.checked });
      AV.toast(AV.T.saved);
    });
  }

  AV.list = { renderList, matchIcon, spriteURL, fold, defaultState, prefs };
  AV.pages.list = listPage;
  // Deferred, this script runs once the page is parsed: draw the list now, not at DOMContentLoaded,
  // which also waits for the module scripts (connection.js) and what they import.
  if (document.readyState !== "loading" && document.body.dataset.page === "list") listPage();
  const settings = AV.pages.settings;
  AV.pages.settings = function () { if (settings) settings(); listOptions(); };
})();
