"""Codes away from home, timed in headless Chromium with its CPU slowed 4x (a stand-in for a phone).

With the server really stopped (gunicorn gone), on a device whose vault holds N accounts
(default 20) and has a passkey with PRF (DevTools' virtual authenticator) and a passphrase
(scrypt N=2^15, r=8, p=1, as the server writes it):

- passkey offline unlock: tap -> first code on screen (the WebAuthn request, HKDF, unwrap,
  header MAC, decrypt, N accounts' keys imported, every code computed);
- passphrase offline unlock: tap -> first code on screen (scrypt in the browser dominates);
- cold start offline: a new page of the installed app with its service worker stopped, the
  server gone: navigation start -> the unlock form on screen;
- the shell's weight: every byte the offline page loads (HTML, CSS, scripts), plain and gzip;
- the unlocked list left alone (its countdown ticking 4 times a second): main-thread time per
  second (scripts, style, layout) between code changes, and the longest task when every code
  changes at a period's end (once; waits up to 30 s).

With --accounts above 20 the first 20 are added one by one (TOTP, HOTP and Steam codes, three
algorithms), the rest imported as TOTP otpauth URIs.

    .venv/bin/python bench/bench_offline.py            # --accounts 20 --runs 5 --throttle 4

Prints a Markdown table (medians, with the range).
"""
from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import os
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PASSPHRASE, PHONE, SETUP_TOKEN  # noqa: E402
from tests.browser.gunicorn_server import GunicornServer  # noqa: E402
from tests.browser.offline_helpers import wait_for_controller, wait_for_copy  # noqa: E402

FIRST_CODE = """async (button) => {
  const t0 = performance.now();
  document.getElementById(button).click();
  await new Promise((ok) => { const poll = () => document.querySelector('#offline-view:not([hidden]) .acct .code[data-code]')
    ? ok() : setTimeout(poll, 2); poll(); });
  return performance.now() - t0;
}"""


IDLE_S = 3
LONGEST_AT_FLIP = """() => new Promise((done) => {
  let worst = 0;
  const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) worst = Math.max(worst, e.duration); });
  obs.observe({ type: "longtask" });
  const end = (Math.floor(Date.now() / 30000) + 1) * 30000 + 3000;     // 3 s past the next period's end
  setTimeout(() => { obs.disconnect(); done(worst); }, end - Date.now());
})"""


def metrics(cdp: object) -> dict[str, float]:
    """Chromium's cumulative main-thread times (seconds) of this page."""
    got = cdp.send("Performance.getMetrics")["metrics"]  # type: ignore[attr-defined]
    return {m["name"]: m["value"] for m in got if m["name"] in ("TaskDuration", "ScriptDuration", "RecalcStyleDuration",
                                                               "LayoutDuration")}


def fmt(values: list[float]) -> str:
    return f"**{statistics.median(values):.0f} ms** ({min(values):.0f}-{max(values):.0f})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=20)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--throttle", type=float, default=4)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        server = GunicornServer.start(Path(tmp) / "data", workers=1)
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(**PHONE)
        context.set_default_timeout(60_000)
        page = context.new_page()
        origin = server.origin
        try:
            cdp = context.new_cdp_session(page)
            cdp.send("WebAuthn.enable", {"enableUI": False})
            cdp.send("Performance.enable")
            cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
                "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
                "isUserVerified": True, "automaticPresenceSimulation": True, "hasPrf": True}})
            page.goto(f"{origin}/setup?token={SETUP_TOKEN}")
            page.wait_for_function("!!(window.AuthVault && window.AuthVault.afterSetup)")
            page.fill("#device_name", "Bench phone")
            page.fill("#passphrase", PASSPHRASE)
            page.fill("#passphrase2", PASSPHRASE)
            page.click("#setup-form button[type=submit]")
            page.click("#passkey-add-btn")
            page.wait_for_url(origin + "/")
            token = context.request.get(origin + "/api/session").json()["csrf_token"]
            for i in range(min(args.accounts, 20)):
                secret = "".join("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[b % 32] for b in os.urandom(32))
                kind = ("totp", "totp", "totp", "hotp", "steam")[i % 5]
                body = {"issuer": f"Service {i}", "name": f"user{i}@example.com", "secret": secret, "type": kind,
                        "algorithm": ("SHA1", "SHA256", "SHA512")[i % 3], "digits": 5 if kind == "steam" else 6 + i % 3}
                resp = context.request.post(origin + "/api/accounts", data=body, headers={"X-CSRFToken": token})
                assert resp.ok, resp.text()
            if args.accounts > 20:
                lines = []
                for i in range(20, args.accounts):
                    secret = base64.b32encode(hashlib.sha256(f"o{i}".encode()).digest()[:20]).decode()
                    lines.append(f"otpauth://totp/Shop%20{i:04d}:user{i}%40example.com?secret={secret}&issuer=Shop%20{i:04d}")
                resp = context.request.post(origin + "/api/import", headers={"X-CSRFToken": token}, multipart={
                    "file": {"name": "uris.txt", "mimeType": "text/plain", "buffer": "\n".join(lines).encode()},
                    "confirm": "true"})
                assert resp.ok, resp.text()
            page.goto(origin + "/")
            wait_for_controller(page)
            wait_for_copy(page)
            shell_urls = [origin + "/offline"]
            server.stop()
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": args.throttle})
            page.reload()
            page.wait_for_selector("#offline-form", state="visible")
            resources = page.evaluate("() => performance.getEntriesByType('resource').map((r) => r.name)")
            shell_urls += [u for u in resources if u.startswith(origin + "/static/")]
            prf, passphrase = [], []
            for _ in range(args.runs):
                page.wait_for_selector("#offline-passkey-btn", state="visible")
                prf.append(page.evaluate(FIRST_CODE, "offline-passkey-btn"))
                page.click("#offline-lock")
                page.fill("#offline-passphrase", PASSPHRASE)
                passphrase.append(page.evaluate(FIRST_CODE, "offline-submit"))
                page.click("#offline-lock")
            busy, parts = [], []
            page.fill("#offline-passphrase", PASSPHRASE)
            page.evaluate(FIRST_CODE, "offline-submit")
            for _ in range(args.runs):
                # 3 s clear of a period's end (30 s periods): no code changes inside the window
                page.wait_for_function(f"() => {{ const s = Date.now() / 1000 % 30; return s > 1 && s < {30 - 1 - IDLE_S}; }}",
                                       polling=200, timeout=40_000)
                before = metrics(cdp)
                page.wait_for_timeout(IDLE_S * 1000)
                after = metrics(cdp)
                d = {k: (after[k] - before[k]) * 1000 / IDLE_S for k in after}
                busy.append(d["TaskDuration"])
                parts.append((d["ScriptDuration"], d["RecalcStyleDuration"], d["LayoutDuration"]))
            script, style, layout = (statistics.median(x[i] for x in parts) for i in range(3))
            flip = page.evaluate(LONGEST_AT_FLIP)
            page.click("#offline-lock")
            cold = []
            for _ in range(args.runs):
                sw = context.new_cdp_session(page)
                sw.send("ServiceWorker.enable")
                sw.send("ServiceWorker.stopAllWorkers")
                fresh = context.new_page()
                fcdp = context.new_cdp_session(fresh)
                fcdp.send("Emulation.setCPUThrottlingRate", {"rate": args.throttle})
                fresh.goto(origin + "/", wait_until="commit")
                fresh.wait_for_selector("#offline-form", state="visible")
                cold.append(fresh.evaluate("() => performance.now()"))
                fresh.close()
        finally:
            context.close()
            browser.close()
            server.stop()
        # the shell's bytes, from a server started again on the same files
        server2 = GunicornServer.start(Path(tmp) / "data2", workers=1)
        try:
            plain = packed = 0
            for url in dict.fromkeys(shell_urls):
                path = url.replace(origin, "", 1)
                body = urllib.request.urlopen(server2.url + path).read()
                plain += len(body)
                packed += len(gzip.compress(body, 6))
        finally:
            server2.stop()
    print(f"Offline, {args.accounts} accounts, Chromium CPU throttled {args.throttle:g}x, {args.runs} runs each\n")
    print("| what | figure | aim |")
    print("| --- | --- | --- |")
    print(f"| passkey (PRF) offline unlock, tap to first code | {fmt(prf)} | under 1 s |")
    print(f"| passphrase offline unlock (scrypt N=2^15 in the browser), tap to first code | {fmt(passphrase)} | under 3 s |")
    print(f"| cold start of the installed app offline (service worker stopped), navigation to the unlock form | {fmt(cold)} | |")
    print(f"| the list idle between code changes: main-thread time per second (script / style / layout) | "
          f"**{statistics.median(busy):.0f} ms/s** ({min(busy):.0f}-{max(busy):.0f}; {script:.0f} / {style:.0f} / {layout:.0f}) | |")
    longest = f"**{flip:.0f} ms**" if flip else "none over 50 ms (a long task is one over 50 ms)"
    print(f"| the longest task when every code changes (period end) | {longest} | under 50 ms |")
    print(f"| shell page weight ({len(dict.fromkeys(shell_urls))} files) | **{plain / 1024:.0f} KiB**, {packed / 1024:.0f} KiB gzip | |")


if __name__ == "__main__":
    main()
