"""The list's first screenful comes drawn by the server (authvault/web/list_rows.py), so its codes
show before any script runs; list.js then takes the rows over.

- The server's rows are list.js's rows: for each list option (layout, hide codes, next code) the
  page's rows are compared node by node with what list.js's renderList draws from the same page's
  data, over accounts that test the edges (favourite, HOTP, 8 digits, Steam, no issuer, a chosen
  icon, a chosen initial, full-width and accented names, markup in names); and list.js's icon
  matching against the server's over the alias table and more names.
- With JavaScript off, a phone shows at least 8 rows with their codes (the ones the API gives),
  compact as this browser chose; with "hide codes" no digit is on screen.
- With list.js held back (a slow phone), the rows are there; once it runs they do not move and
  taps work.
"""
from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from authvault.web import list_rows
from tests.paths import REPO

from .conftest import PHONE, TABLET, Device, new_device, open_with_script_held
from .test_list_e2e import device_server, fully_visible_rows, import_uris

pytestmark = pytest.mark.browser

NAMES = ["GitHub", "accounts.google.com", "Battle.net", "ＧｉｔＨｕｂ", "Microsoft", "Crédit Agricole", "三井住友銀行",
         "Ünïcödé Bank", "Proton AG", "npmjs.com", "Steam Guard", "ßtraße", "İstanbul Kart", "🦊 Fox", "  spaced  ",
         "a:b", "(paren) Co", "x/y", "@home", "-dash", "Amazon Web Services", "login.microsoftonline.com", ""]


def secret(i: int) -> str:
    return base64.b32encode(hashlib.sha256(f"rows-{i}".encode()).digest()[:20]).decode().rstrip("=")


def uris() -> list[str]:
    q = lambda s: s.replace("%", "%25").replace(" ", "%20").replace("&", "%26").replace("<", "%3C").replace("#", "%23")  # noqa: E731
    names = [f"otpauth://totp/{q(n or 'x')}:user{i}?secret={secret(i)}&issuer={q(n)}" for i, n in enumerate(NAMES) if n]
    return [
        f"otpauth://hotp/Counter%20Co:me?secret={secret(100)}&issuer=Counter%20Co&counter=41",
        f"otpauth://totp/Eight:me?secret={secret(101)}&issuer=Eight&digits=8",
        f"otpauth://totp/Steam:gamer?secret={secret(102)}&issuer=Steam&encoder=steam",
        f"otpauth://totp/no-issuer%40example.com?secret={secret(103)}",
        f"otpauth://totp/A%26B%3Cscript%3E:x%22y'z?secret={secret(104)}&issuer=A%26B%3Cscript%3E",
        f"otpauth://totp/Sixty:me?secret={secret(105)}&issuer=Sixty&period=60",
    ] + names


@pytest.fixture(scope="module")
def listed(browser: Any, tmp_path_factory: pytest.TempPathFactory, _translations_compiled: None) -> Iterator[dict]:
    """A server with one device whose accounts test the edges; a favourite, a chosen icon and initial."""
    def fill(device: Device) -> dict:
        import_uris(device, uris())
        accounts = device.api("GET", "/api/codes")["accounts"]
        by_issuer = {a["issuer"]: a for a in accounts}
        assert len(accounts) == len(uris())
        device.api("PATCH", f"/api/accounts/{by_issuer['Eight']['id']}", {"favorite": True, "group": "Work"})
        device.api("PATCH", f"/api/accounts/{by_issuer['GitHub']['id']}", {"icon": "letter", "note": "work laptop"})
        device.api("PATCH", f"/api/accounts/{by_issuer['Sixty']['id']}", {"icon": "github"})
        device.goto("/")                                    # list.js writes this browser's options
        device.page.wait_for_selector("#accounts[data-started] .acct")
        assert re.fullmatch(r"c[01]\.h0\.n0\.manual", cookie(device, list_rows.COOKIE) or "")
        return {"count": len(accounts)}

    with device_server(browser, tmp_path_factory, fill) as got:
        yield got


def cookie(device: Device, name: str) -> str | None:
    return next((c["value"] for c in device.context.cookies() if c["name"] == name), None)


def with_options(browser: Any, listed: dict, value: str, **kwargs: Any) -> Device:
    device = new_device(browser, listed["server"].origin, storage_state=listed["state"], **kwargs)
    device.context.add_cookies([{"name": list_rows.COOKIE, "value": value, "url": listed["server"].origin}])
    return device


COMPARE = """async ([value, prefs]) => {
    localStorage.setItem('authvault.list', JSON.stringify(prefs));
    document.cookie = 'authvault_list=' + value + '; Path=/';
    const html = await (await fetch('/', {headers: {Accept: 'text/html'}})).text();
    const doc = new DOMParser().parseFromString(html, 'text/html');
    const ul = doc.getElementById('accounts');
    const data = JSON.parse(doc.getElementById('codes-data').textContent);
    const mine = document.createElement('ul');
    const base = document.getElementById('arrange-bar').dataset.sprite;
    const p = AuthVault.list.prefs();
    AuthVault.list.renderList(mine, data.accounts, {showNext: p.showNext, hideCodes: p.hideCodes,
        sprite: AuthVault.list.spriteURL(base, data.accounts)});
    // the countdown is list.js's clock's (drawn on its first tick): not compared
    const norm = (li) => { const c = li.cloneNode(true); c.classList.remove('ending');
        const s = c.querySelector('.secs'); if (s) s.textContent = ''; return c; };
    const server = [...ul.children], drawn = [...mine.children].slice(0, server.length);
    const diff = server.map((li, i) => norm(li).isEqualNode(norm(drawn[i])) ? null : [norm(li).outerHTML, norm(drawn[i]).outerHTML]).filter(Boolean);
    return {first: ul.dataset.first || null, rows: server.length, compact: doc.body.classList.contains('compact'),
            secs: server.map((li) => (li.querySelector('.secs') || {}).textContent), diff};
}"""


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
def test_the_servers_rows_are_list_js_rows(browser: Any, listed: dict, locale: str) -> None:
    device = with_options(browser, listed, "c1.h0.n0.manual", locale=locale)
    try:
        device.goto("/")
        device.page.wait_for_selector("#accounts[data-started] .acct")
        for value, prefs in [("c1.h0.n0.manual", {"layout": "compact"}),
                             ("c0.h0.n1.manual", {"layout": "comfortable", "showNext": True}),
                             ("c1.h1.n1.manual", {"layout": "compact", "hideCodes": True, "showNext": True})]:
            got = device.page.evaluate(COMPARE, [value, prefs])
            assert got["first"] == "server" and got["rows"] == min(listed["count"], list_rows.FIRST_SCREEN), value
            assert got["compact"] == value.startswith("c1")
            assert got["diff"] == [], f"{value}: server row != list.js row:\n" + "\n".join(map(str, got["diff"][:2]))
            assert all(s is None or 1 <= int(s) <= 60 for s in got["secs"])   # None: a counter (HOTP) row
        assert device.errors == []
    finally:
        device.close()


def test_icon_matching_is_list_js_matching(browser: Any, listed: dict) -> None:
    aliases = list_rows.parse_tables(str(REPO / "static/js/icons.js"), "test").aliases
    names = NAMES + list(aliases) + [k.upper() + ".com" for k in aliases] + [f"{k} account" for k in list(aliases)[:20]]
    device = with_options(browser, listed, "c1.h0.n0.manual")
    try:
        device.goto("/")
        device.page.wait_for_selector("#accounts[data-started] .acct")
        js = device.page.evaluate("(names) => names.map((n) => AuthVault.list.matchIcon(n))", names)
        app = Flask("parity", static_folder=str(REPO / "static"))
        with app.app_context():
            py = [list_rows.match_icon(n) for n in names]
        assert [(n, a) for n, a, b in zip(names, js, py, strict=True) if a != b] == []
    finally:
        device.close()


def test_codes_show_with_javascript_off(browser: Any, listed: dict, screenshot_dir: Path) -> None:
    device = with_options(browser, listed, "c1.h0.n0.manual", java_script_enabled=False, **PHONE)
    try:
        codes = {a["id"]: a for a in device.api("GET", "/api/codes")["accounts"]}
        device.goto("/")
        page = device.page
        rows = page.locator("#accounts .acct")
        assert rows.count() == list_rows.FIRST_SCREEN < listed["count"]
        page.screenshot(path=str(screenshot_dir / "list-rows-no-js-phone.png"))
        assert fully_visible_rows(page) >= 8
        assert page.evaluate("document.body.className") == "compact"
        for i in range(rows.count()):
            li = rows.nth(i)
            a = codes[li.get_attribute("data-id")]
            shown = li.locator(".code").inner_text().replace(" ", "")
            if a["type"] == "hotp":
                assert li.locator(".counter").inner_text() == f"#{a['counter']}" and shown == a["code"]
            else:                                    # the page was read just after the API, maybe in the next period
                assert shown in (a["code"], a["next_code"]), (a["issuer"], shown)
    finally:
        device.close()
    hidden = with_options(browser, listed, "c0.h1.n1.manual", java_script_enabled=False, **TABLET)
    try:
        hidden.goto("/")
        text = hidden.page.locator("#accounts").inner_text()
        assert hidden.page.locator("#accounts .acct").count() == list_rows.FIRST_SCREEN
        assert not re.search(r"\d{3}", text.replace("#41", "")), text        # no code on screen
        hidden.page.screenshot(path=str(screenshot_dir / "list-rows-no-js-hidden-tablet.png"))
    finally:
        hidden.close()


def test_rows_stay_put_when_list_js_takes_over(browser: Any, listed: dict) -> None:
    device = with_options(browser, listed, "c1.h0.n0.manual", permissions=["clipboard-read", "clipboard-write"])
    page = device.page
    try:
        held = open_with_script_held(device, "/", "js/list.js")
        page.wait_for_selector("#accounts .acct .code")
        boxes = """() => [...document.querySelectorAll('#accounts .acct')].slice(0, 8).map((li) => {
            const r = li.getBoundingClientRect(); const c = li.querySelector('.code, .action').getBoundingClientRect();
            return [li.dataset.id, Math.round(r.top), Math.round(r.height), Math.round(c.left)]; })"""
        before = page.evaluate(boxes)
        assert len(before) == 8 and page.evaluate("!document.getElementById('accounts').dataset.started")
        held.continue_()
        page.wait_for_selector("#accounts[data-started]")
        page.wait_for_selector("#chips .chip")
        page.wait_for_function("() => document.querySelectorAll('#accounts .acct').length > 20")
        after = page.evaluate(boxes)
        assert after == before, page.evaluate("[...document.querySelectorAll('#accounts .acct')].slice(0, 2).map((li) => li.outerHTML + ' ' + getComputedStyle(li).height)")
        # taps work: the first row's code is copied
        first = page.locator("#accounts .acct").first
        first.locator(".code").click()
        code = first.locator(".code").get_attribute("data-code")
        assert page.evaluate("navigator.clipboard.readText()") == code
        assert device.errors == []
    finally:
        device.close()


def test_no_rows_from_the_server_for_a_sort_it_cannot_know(browser: Any, listed: dict) -> None:
    device = with_options(browser, listed, "c1.h0.n0.az")
    try:
        html = device.context.request.get(listed["server"].origin + "/").text()
        assert "data-first" not in html and '<li class="acct' not in html
        device.goto("/")                              # list.js draws them, A-Z in the page's language
        device.page.wait_for_selector("#accounts[data-started] .acct")
        assert device.page.locator("#accounts .acct").count() == listed["count"]
    finally:
        device.close()
