"""The account list as a phone feels it: Chromium with 4x CPU throttling and 100 ms round trips.

Prints Markdown tables:
1. Time to the first code on screen (median of --runs), the list page against its floor: a static
   HTML page of the same codes served by the same gunicorn (written into static/ for the run and
   removed after). Cold = an empty browser cache; warm = a third visit in the same browser (as
   every day: static files from the cache, the scripts' compiled code kept by the browser).
   Also the bytes each visit transfers (compressed, with headers), and the page weight at 100
   accounts with icons.
2. In the browser (4x throttle and unthrottled): drawing the list (renderList) at 100 and 1000
   accounts, and one search keystroke at 1000 accounts (the input handler plus the layout it
   causes), median and worst over the keystrokes of "shop 12" typed one by one and erased again,
   three times, and the longest frame in the 300 ms after each (rows put in the page after the
   first screenful, or, in a list of 120 rows or fewer, shown in slices); and the longest frame
   while the list sits idle for 2 s.

    .venv/bin/python bench/bench_list.py [--runs 7] [--sizes 20,100] [--baseline /tmp/base] [--first-code-only]

With --baseline, another checkout's list (gunicorn --chdir there) is measured in the same runs, visit
for visit (in the browser: each size and throttle right after this checkout's), so a busy machine
slows both alike: its rows say "baseline".

Works against an older checkout too (it only needs its gunicorn and the HTTP API): run it from that
checkout's root to get "before" figures; parts that need static/js/list.js are then left out.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import html
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import requests

REPO = Path.cwd()
sys.path.insert(0, str(REPO))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, compile_translations  # noqa: E402
from tests.browser.gunicorn_server import PASSPHRASE, SETUP_TOKEN, GunicornServer  # noqa: E402

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
KNOWN = ["Google", "GitHub", "Steam", "Dropbox", "Discord", "PayPal", "Cloudflare", "Proton", "Bitwarden",
         "Docker", "npm", "Reddit", "Twitch", "Mastodon", "Nextcloud", "Coinbase", "Binance", "Battle.net"]

# When the first code is on screen: the frame after it appears, once that frame's style, layout and
# paint are done (a requestAnimationFrame, then a message: it runs after the frame's rendering).
# A requestAnimationFrame alone is the start of that frame, and the style, layout and paint of a
# large first frame would go uncounted.
FIRST_CODE = """(() => {
  const seen = () => { const el = document.querySelector('.code');
    return el && /\\d/.test(el.textContent); };
  const done = () => requestAnimationFrame(() => { const ch = new MessageChannel();
    ch.port1.onmessage = () => { window.__firstCode = performance.now(); }; ch.port2.postMessage(0); });
  const mo = new MutationObserver(() => { if (seen()) { mo.disconnect(); done(); } });
  mo.observe(document, {childList: true, subtree: true, characterData: true});
})();"""


def issuers(count: int) -> list[str]:
    return [KNOWN[i] if i < len(KNOWN) else f"Shop {i:04d}" for i in range(count)]


def make_server(base: Path, count: int, checkout: Path | None = None) -> tuple[GunicornServer, requests.Session]:
    """A server of `count` accounts, from this checkout or another one (gunicorn --chdir)."""
    # its own gunicorn.conf.py too: the config imports `authvault` (from the folder it is in) first
    extra = ["--chdir", str(checkout), "-c", str(checkout / "gunicorn.conf.py")] if checkout else []
    server = GunicornServer.start(Path(tempfile.mkdtemp(dir=base)) / f"data{count}", workers=2, extra_args=extra)
    s = requests.Session()
    origin = server.origin
    token = s.get(origin + "/api/session").json()["csrf_token"]
    r = s.post(origin + "/api/setup", json={"setup_token": SETUP_TOKEN, "device_name": "iPhone",
                                            "passphrase": PASSPHRASE}, headers={"X-CSRFToken": token})
    r.raise_for_status()
    token = r.json()["csrf_token"]
    lines = []
    for i, name in enumerate(issuers(count)):
        secret = base64.b32encode(hashlib.sha256(f"b{i}".encode()).digest()[:20]).decode()
        q = name.replace(" ", "%20")
        lines.append(f"otpauth://totp/{q}:user{i}%40example.com?secret={secret}&issuer={q}")
    r = s.post(origin + "/api/import", headers={"X-CSRFToken": token},
               files={"file": ("uris.txt", "\n".join(lines).encode(), "text/plain")}, data={"confirm": "true"})
    r.raise_for_status()
    return server, s


def floor_page(session: requests.Session, origin: str) -> str:
    """A static page showing the same codes, the least any list page could do."""
    codes = session.get(origin + "/api/codes").json()["accounts"]
    rows = "".join(f'<li><div>{html.escape(a["issuer"])}</div><div class="code">{a["code"][:3]} {a["code"][3:]}</div></li>'
                   for a in codes)
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            'content="width=device-width, initial-scale=1"><title>floor</title></head><body><ul>'
            f"{rows}</ul></body></html>")


class Visit:
    """One browser context with throttling, counting the bytes it transfers."""

    def __init__(self, browser: Any, cookies: list[dict]) -> None:
        # No service worker: the requests it makes are not slowed by the page's network emulation,
        # so a page it controls would skip the 100 ms round trips the floor pays (the worker's own
        # start-up cost on a phone is then not measured either).
        self.context = browser.new_context(**PHONE, service_workers="block")
        self.context.add_cookies(cookies)
        self.context.add_init_script(FIRST_CODE)
        self.page = self.context.new_page()
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("Network.enable")
        self.cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 100,
                                                           "downloadThroughput": -1, "uploadThroughput": -1})
        self.cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
        self.bytes = 0
        self.cdp.on("Network.loadingFinished", lambda e: setattr(self, "bytes", self.bytes + e["encodedDataLength"]))

    def open(self, url: str) -> tuple[float, int]:
        self.bytes = 0
        self.page.goto(url, wait_until="load")
        self.page.wait_for_function("() => window.__firstCode !== undefined", timeout=30000)
        first = self.page.evaluate("window.__firstCode")
        self.page.wait_for_load_state("networkidle")
        return first, self.bytes

    def close(self) -> None:
        self.context.close()


def cookies_of(session: requests.Session, origin: str) -> list[dict]:
    return [{"name": c.name, "value": c.value, "url": origin} for c in session.cookies]


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def spread(xs: list[float], unit: str = " ms") -> str:
    """The median and, in brackets, the lowest and highest of the runs."""
    return f"{median(xs):.0f}{unit} ({min(xs):.0f}-{max(xs):.0f})"


def ratios(lst: list[float], flr: list[float]) -> str:
    """Run by run (each list visit against the floor visit of the same run): median (lowest-highest)."""
    rs = [a / b for a, b in zip(lst, flr, strict=True)]
    return f"**{median(rs):.2f}x** ({min(rs):.2f}-{max(rs):.2f})"


def first_code(browser: Any, sites: list[tuple[str, GunicornServer, requests.Session, str]],
               runs: int) -> dict[str, list[float]]:
    """Each run visits, one after the other, every site's list and its floor (sites: name, server,
    session, floor URL): with a baseline checkout, both are measured in the same moments."""
    out: dict[str, list[float]] = {}
    for _ in range(runs):
        for site, server, session, floor_url in sites:
            cookies = cookies_of(session, server.origin)
            for kind, url in (("list", server.origin + "/"), ("floor", floor_url)):
                name = f"{site}{kind}"
                v = Visit(browser, cookies)
                t, b = v.open(url)
                out.setdefault(f"{name}_cold", []).append(t)
                out.setdefault(f"{name}_cold_b", []).append(b)
                v.open(url)            # the second visit: the browser now keeps the scripts' compiled code
                t, b = v.open(url)
                out.setdefault(f"{name}_warm", []).append(t)
                out.setdefault(f"{name}_warm_b", []).append(b)
                v.close()
    return out


def unlock_wait(browser: Any, server: GunicornServer, session: requests.Session, runs: int) -> float:
    """Median time from tapping Unlock (passphrase) to the first code on screen, throttled."""
    import time
    times = []
    v = Visit(browser, cookies_of(session, server.origin))
    v.open(server.origin + "/")                  # warm: the list's files are in the cache
    v.open(server.origin + "/")
    for _ in range(runs):                        # the same browser: its cookies follow each unlock
        v.page.evaluate("fetch('/api/lock', {method: 'POST', headers: {'X-CSRFToken': "
                        "document.querySelector('meta[name=csrf-token]').content}})")
        v.page.goto(server.origin + "/")
        v.page.wait_for_selector("#unlock-form button[type=submit]:not([disabled])")
        v.page.fill("#passphrase", PASSPHRASE)
        t0 = time.monotonic()
        v.page.click("#unlock-form button[type=submit]")
        v.page.wait_for_function("() => { const c = document.querySelector('#accounts .code'); "
                                 "return c && /\\d/.test(c.textContent); }", timeout=30000)
        times.append((time.monotonic() - t0) * 1000)
    v.close()
    return median(times)


def in_browser(browser: Any, server: GunicornServer, session: requests.Session, throttle: int) -> dict[str, Any]:
    """renderList at this size, and search keystrokes (needs static/js/list.js)."""
    context = browser.new_context(**PHONE)
    context.add_cookies(cookies_of(session, server.origin))
    page = context.new_page()
    page.goto(server.origin + "/")
    page.wait_for_selector("#accounts .acct")
    if not page.evaluate("!!(window.AuthVault && window.AuthVault.list)"):
        context.close()
        return {}
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
    render = page.evaluate("""() => {
        const data = JSON.parse(document.getElementById('codes-data').textContent);
        const ul = document.createElement('ul'); ul.className = 'accounts';
        document.querySelector('main').appendChild(ul);
        const times = [];
        for (let i = 0; i < 9; i++) {
            const t = performance.now();
            AuthVault.list.renderList(ul, data.accounts, {sprite: ''});
            void ul.offsetHeight;                        // and the layout it causes
            times.push(performance.now() - t);
        }
        ul.remove();
        times.sort((a, b) => a - b);
        return times[4]; }""")
    # each keystroke: the input handler plus the layout it forces (what the next frame shows);
    # then 300 ms of frames, while the rows below the first screenful follow in slices: the longest
    keys, after = page.evaluate("""async () => {
        const s = document.getElementById('search'), times = [], after = [];
        const frame = () => new Promise((r) => requestAnimationFrame(r));
        for (const q of [].concat(...Array(3).fill(['s', 'sh', 'sho', 'shop', 'shop ', 'shop 1', 'shop 12', 'shop 1', 'shop ', '']))) {
            const t = performance.now();
            s.value = q; s.dispatchEvent(new Event('input'));
            void document.body.offsetHeight;
            const done = performance.now();
            times.push(done - t);
            let last = await frame(), worst = last - done;
            while (last - done < 300) { const n = await frame(); worst = Math.max(worst, n - last); last = n; }
            after.push(worst);
        }
        return [times, after]; }""")
    # the list left alone for 2 s (its countdown ticking 4 times a second): the longest frame
    idle = page.evaluate("""() => new Promise((done) => {
        const gaps = []; let last = performance.now(); const end = last + 2000;
        const step = (t) => { gaps.push(t - last); last = t; if (t < end) requestAnimationFrame(step); else done(gaps); };
        requestAnimationFrame(step); })""")
    context.close()
    return {"render": render, "key_median": median(keys), "key_max": max(keys), "after_worst": max(after),
            "idle_worst": max(idle)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sizes", default="20,100")
    parser.add_argument("--baseline", type=Path, help="another checkout whose list is measured in the same runs "
                        "(first code and in the browser), e.g. `git worktree add --detach /tmp/base <commit>`")
    parser.add_argument("--first-code-only", action="store_true", help="leave out the unlock and in-browser parts")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    compile_translations()
    sizes = [int(x) for x in args.sizes.split(",") if x]   # --sizes "": the in-browser part only
    base = Path(tempfile.mkdtemp(prefix="bench-list-"))
    floor_files = [REPO / "static" / "bench-floor.html"]
    if args.baseline:
        floor_files.append(args.baseline.resolve() / "static" / "bench-floor.html")
    servers: list[GunicornServer] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            print(f"# The list in Chromium, 4x CPU throttle, 100 ms round trips (median of {args.runs}, lowest-highest "
                  "in brackets; ratios run by run; cold = empty cache, warm = third visit)\n")
            print("| accounts | list cold | floor cold | ratio | list warm | floor warm | ratio | bytes list cold / warm | bytes floor cold / warm |")
            print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
            unlocks: list[tuple[int, float]] = []
            for n in sizes:
                sites = []
                for site, checkout, floor_file in zip(("", "base_"), (None, args.baseline), floor_files, strict=False):
                    server, session = make_server(base, n, checkout.resolve() if checkout else None)
                    servers.append(server)
                    floor_file.write_text(floor_page(session, server.origin))
                    sites.append((site, server, session, server.origin + "/static/bench-floor.html"))
                r = first_code(browser, sites, args.runs)
                for site, label in (("", str(n)), ("base_", f"{n}, baseline")):
                    if f"{site}list_cold" not in r:
                        continue
                    g = {k: r[site + k] for k in ("list_cold", "floor_cold", "list_warm", "floor_warm")}
                    kb = {k: median(r[site + k]) / 1024 for k in ("list_cold_b", "list_warm_b", "floor_cold_b", "floor_warm_b")}
                    print(f"| {label} | {spread(g['list_cold'])} | {spread(g['floor_cold'])} | "
                          f"{ratios(g['list_cold'], g['floor_cold'])} | {spread(g['list_warm'])} | {spread(g['floor_warm'])} | "
                          f"{ratios(g['list_warm'], g['floor_warm'])} | {kb['list_cold_b']:.1f} / {kb['list_warm_b']:.1f} KB | "
                          f"{kb['floor_cold_b']:.1f} / {kb['floor_warm_b']:.1f} KB |", flush=True)
                server, session = sites[0][1], sites[0][2]
                if not args.first_code_only:
                    unlocks.append((n, unlock_wait(browser, server, session, args.runs)))
                for _, s, _, _ in sites:
                    s.stop()
            if args.first_code_only:
                browser.close()
                return 0
            print("\n# From tapping Unlock (passphrase) to the first code, every-day visit (median)\n")
            print("| accounts | unlock to first code |")
            print("| --- | --- |")
            for n, t in unlocks:
                print(f"| {n} | {t:.0f} ms |")
            print("\n# In the browser: drawing the list and one search keystroke (median; keystrokes: median / worst)\n")
            print("| accounts | CPU | renderList + layout | search keystroke + layout | longest frame after a keystroke | "
                  "longest frame, list idle 2 s |")
            print("| --- | --- | --- | --- | --- | --- |")
            for n in (100, 1000):
                sites = []                       # this checkout, and the baseline's: measured one after the other
                for label, checkout in ((str(n), None), (f"{n}, baseline", args.baseline)):
                    if label == str(n) or checkout:
                        server, session = make_server(base, n, checkout.resolve() if checkout else None)
                        servers.append(server)
                        sites.append((label, server, session))
                for throttle in (1, 4):
                    for label, server, session in sites:
                        r = in_browser(browser, server, session, throttle)
                        if not r:
                            print(f"| {label} | {throttle}x | (no client-side list in this checkout) | |")
                            continue
                        print(f"| {label} | {throttle}x | {r['render']:.1f} ms | {r['key_median']:.1f} / {r['key_max']:.1f} ms | "
                              f"{r['after_worst']:.0f} ms | {r['idle_worst']:.0f} ms |", flush=True)
                for _, server, _ in sites:
                    server.stop()
            browser.close()
    finally:
        for floor_file in floor_files:
            floor_file.unlink(missing_ok=True)
        for s in servers:
            s.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
