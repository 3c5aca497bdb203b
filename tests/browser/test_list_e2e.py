"""The account list with 100 accounts, as a person uses it every day (issue 14).

Phone (390x844) and tablet (820x1180), light and dark, English and Japanese: at least 8 rows fully
visible on the phone; search narrows to one account by typing part of its issuer, and Enter copies
its code; a known issuer shows its bundled icon and an unknown one its initial; arranging by drag
is kept after a reload and through a backup and restore; groups go out in an Aegis export and come
back in on import; after adding, the list marks the new account and the toast names it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import PASSPHRASE, PHONE, TABLET, Device, _starter, new_device, setup_device
from .gunicorn_server import GunicornServer

pytestmark = pytest.mark.browser

KNOWN = ["Google", "GitHub", "Steam", "Dropbox", "Discord", "PayPal", "Cloudflare", "Proton", "Bitwarden",
         "Docker", "npm", "Reddit", "Twitch", "Mastodon", "Nextcloud", "Coinbase", "Binance", "Battle.net",
         "Epic Games", "Ubisoft"]
UNKNOWN = ["Zyxel Portal", "Acme Bank", "Hokuriku Credit", "Payroll Co", "Intranet VPN"]


def secret_for(i: int) -> str:
    return base64.b32encode(hashlib.sha256(f"acct-{i}".encode()).digest()[:20]).decode().rstrip("=")


def issuers(count: int = 100) -> list[str]:
    """100 issuers: the known ones first, then unknown ones, then numbered shops."""
    names = KNOWN + UNKNOWN
    return names + [f"Shop {i:03d}" for i in range(count - len(names))]


def import_uris(device: Device, uris: list[str]) -> None:
    """Add accounts through the import API (a text file of otpauth URIs), as an import does."""
    req = device.context.request
    token = req.get(device.origin + "/api/session").json()["csrf_token"]
    resp = req.post(device.origin + "/api/import", headers={"X-CSRFToken": token},
                    multipart={"file": {"name": "uris.txt", "mimeType": "text/plain", "buffer": "\n".join(uris).encode()},
                               "confirm": "true"})
    assert resp.ok, resp.text()


def import_accounts(device: Device, names: list[str]) -> None:
    """Add one TOTP account per issuer name (user<i>@example.com, a secret of its own)."""
    import_uris(device, [f"otpauth://totp/{n.replace(' ', '%20')}:user{i}%40example.com?secret={secret_for(i)}"
                         f"&issuer={n.replace(' ', '%20')}" for i, n in enumerate(names)])


@contextmanager
def device_server(browser: Any, tmp_path_factory: pytest.TempPathFactory,
                  fill: Callable[[Device], dict]) -> Iterator[dict]:
    """A server with one device set up and filled by `fill` (whose answer joins the result): the
    server, and the device's saved cookies and storage (`state`) for other contexts."""
    started: list[GunicornServer] = []
    server = _starter(tmp_path_factory, started)()
    try:
        device = new_device(browser, server.origin)
        setup_device(device, server)
        extra = fill(device)
        state = tmp_path_factory.mktemp("state") / "state.json"
        device.context.storage_state(path=str(state))
        device.close()
        yield {"server": server, "state": str(state), **extra}
    finally:
        for one in started:
            one.stop()


@pytest.fixture(scope="module")
def hundred(browser: Any, tmp_path_factory: pytest.TempPathFactory, _translations_compiled: None) -> Iterator[dict]:
    """A server with one device holding 100 accounts; its cookies for other contexts."""
    with device_server(browser, tmp_path_factory, lambda d: import_accounts(d, issuers()) or {}) as got:
        yield got


def open_list(browser: Any, hundred: dict, size: dict, **kwargs: Any) -> Device:
    device = new_device(browser, hundred["server"].origin, **{**size, **kwargs},
                        storage_state=hundred["state"])
    device.goto("/")
    device.page.wait_for_selector("#accounts[data-started] .acct")
    return device


def fully_visible_rows(page: Any) -> int:
    return page.evaluate("""() => {
        const h = innerHeight;
        return [...document.querySelectorAll('#accounts .acct')].filter((li) => {
            if (li.hidden) return false;
            const r = li.getBoundingClientRect();
            const head = document.getElementById('list-head').getBoundingClientRect().bottom;
            return r.top >= head - 1 && r.bottom <= h + 1 && r.height > 0;
        }).length; }""")


@pytest.mark.parametrize("size_name", ["phone", "tablet"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
def test_hundred_accounts_find_and_recognise(browser: Any, hundred: dict, size_name: str, scheme: str,
                                             locale: str, screenshot_dir: Path) -> None:
    size = PHONE if size_name == "phone" else TABLET
    device = open_list(browser, hundred, size, color_scheme=scheme, locale=locale,
                       permissions=["clipboard-read", "clipboard-write"])
    page = device.page
    try:
        assert page.locator("#accounts .acct").count() == 100
        shot = screenshot_dir / f"list100-{size_name}-{scheme}-{locale}.png"
        page.screenshot(path=str(shot))
        visible = fully_visible_rows(page)
        if size_name == "phone":
            assert visible >= 8, f"only {visible} rows fully visible on a 390x844 phone"
        # the code is readable at arm's length: at least 24 CSS px, grouped as 123 456
        code = page.locator("#accounts .acct .code").first
        assert float(code.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 24
        assert page.locator("#accounts .acct .code").first.inner_text().strip()[3] == " "
        # recognise: a bundled icon for GitHub, an initial for an unknown issuer
        github = page.locator("#accounts .acct", has=page.locator(".issuer", has_text="GitHub"))
        assert github.locator(".av").get_attribute("data-icon") == "github"
        assert github.locator(".av svg use").count() == 1
        acme = page.locator("#accounts .acct", has=page.locator(".issuer", has_text="Acme Bank"))
        assert acme.locator(".letter-av").inner_text() == "A"
        # only the icons in use come, in one small sprite, and they are drawn (a symbol missing
        # from the sprite would draw nothing: an empty box)
        href = github.locator(".av svg use").get_attribute("href")
        assert href.startswith("/static/icons.svg?v=") and href.endswith("#si-github")
        assert sorted(href.split("&s=")[1].split("#")[0].split(".")) == sorted(
            {"google", "github", "steam", "dropbox", "discord", "paypal", "cloudflare", "proton", "bitwarden", "docker",
             "npm", "reddit", "twitch", "mastodon", "nextcloud", "coinbase", "binance", "battledotnet", "epicgames",
             "ubisoft"})
        page.wait_for_function("() => document.querySelector('#accounts .av[data-icon=github] use').getBBox().width > 0")
        assert page.evaluate("performance.getEntriesByType('resource').filter((e) => "
                             "e.name.includes('simple-icons/icons.svg')).length") == 0
        # find: part of an issuer narrows the list to one account; Enter copies its code
        page.fill("#search", "zyx")
        assert page.locator("#accounts .acct:not([hidden])").count() == 1
        only = page.locator("#accounts .acct:not([hidden])")
        assert only.locator(".issuer").inner_text() == "Zyxel Portal"
        page.press("#search", "Enter")
        want = only.locator(".code").get_attribute("data-code")
        page.wait_for_function("() => document.getElementById('toast').classList.contains('show')")
        assert "Zyxel Portal" in page.inner_text("#toast")
        assert page.evaluate("navigator.clipboard.readText()") == want
        page.screenshot(path=str(screenshot_dir / f"list100-search-{size_name}-{scheme}-{locale}.png"))
        # no match says so; clearing shows all again
        page.fill("#search", "no such service at all")
        assert page.locator("#accounts .acct:not([hidden])").count() == 0
        assert page.locator("#no-match").is_visible()
        page.fill("#search", "")                  # the first screenful at once, the rest in slices after
        expect(page.locator("#accounts .acct:not([hidden])")).to_have_count(100)
        assert device.errors == []
    finally:
        device.close()


def test_search_survives_a_code_refresh(browser: Any, hundred: dict) -> None:
    device = open_list(browser, hundred, PHONE)
    page = device.page
    try:
        page.fill("#search", "shop 01")
        shown = page.locator("#accounts .acct:not([hidden])").count()
        assert shown == 11  # Shop 001 and Shop 010 .. Shop 019
        with page.expect_response("**/api/codes"):
            page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        page.wait_for_timeout(200)
        assert page.locator("#accounts .acct:not([hidden])").count() == shown
        assert page.input_value("#search") == "shop 01"
    finally:
        device.close()


def test_rows_scrolled_into_view_show_the_current_countdown(browser: Any, hundred: dict) -> None:
    """Only rows near the screen follow the clock (a list of 1000 would restyle itself four times a
    second otherwise); a row scrolled to is brought up to date at once, ring and seconds."""
    device = open_list(browser, hundred, PHONE)
    page = device.page
    try:
        page.wait_for_timeout(2500)                 # a stale row would be 2.5 s behind
        page.locator("#accounts .acct").last.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        got = page.evaluate("""() => { const li = [...document.querySelectorAll('#accounts .acct')].pop();
            return { secs: li.querySelector('.secs').textContent, f: parseFloat(li.querySelector('.ring').style.getPropertyValue('--f')),
                     left: 30 - (Date.now() / 1000) % 30 }; }""")
        assert abs(got["f"] - got["left"] / 30) < 0.05 or got["left"] > 29.5 or got["left"] < 0.5, got
        assert abs(int(got["secs"]) - got["left"]) <= 1.5 or got["left"] > 29.5 or got["left"] < 0.5, got
        assert device.errors == []
    finally:
        device.close()


LONG = 300


@pytest.fixture(scope="module")
def long_list(browser: Any, tmp_path_factory: pytest.TempPathFactory, _translations_compiled: None) -> Iterator[dict]:
    """A server with one device holding 300 accounts (a list long enough to keep only some rows in the page)."""
    with device_server(browser, tmp_path_factory, lambda d: import_accounts(d, issuers(LONG)) or {}) as got:
        yield got


IN_PAGE = "() => [...document.querySelectorAll('#accounts .acct .issuer')].map((e) => e.textContent)"
TO_THE_END = f"""() => {{ scrollTo(0, document.documentElement.scrollHeight);
    return document.querySelectorAll('#accounts .acct').length === {LONG}
        && !document.querySelector('#accounts .list-rest:not([hidden])'); }}"""


@pytest.mark.parametrize("size_name", ["phone", "tablet"])
def test_a_long_list_keeps_the_rows_near_the_screen_in_the_page(browser: Any, long_list: dict, size_name: str) -> None:
    """300 accounts: the page holds the first rows and room for the rest (a keystroke then costs a
    screenful, not 300 or 1000 rows); scrolling brings every row, the last with its code and
    countdown; search and Enter find a row that was not in the page; arranging has every row."""
    device = open_list(browser, long_list, PHONE if size_name == "phone" else TABLET,
                       permissions=["clipboard-read", "clipboard-write"])
    page = device.page
    try:
        order = device.api("GET", "/api/codes")["accounts"]            # the list's order
        rows = page.locator("#accounts .acct")
        page.wait_for_selector("#accounts .list-rest:not([hidden])", state="attached")
        shown = page.evaluate(IN_PAGE)
        assert 8 <= len(shown) < LONG / 2
        assert shown == [a["issuer"] for a in order[:len(shown)]]
        assert page.evaluate("document.documentElement.scrollHeight") > LONG * 25   # as long as the list
        # scrolled to the end: every row comes, the last one with its code and its countdown
        page.wait_for_function(TO_THE_END, polling=100)
        assert page.evaluate(IN_PAGE) == [a["issuer"] for a in order]
        last = rows.last
        expect(last).to_be_in_viewport()
        # drawn again (a code refresh that brings a changed account), the same filter: as many rows
        page.evaluate("document.querySelectorAll('#accounts .acct').forEach((li) => { li.dataset.old = '1'; })")
        device.api("PATCH", f"/api/accounts/{order[0]['id']}", {"note": f"changed, seen on the {size_name}"})
        # (a refresh already on its way may answer with the old note: asked again until drawn)
        page.wait_for_function("""() => !document.querySelector('#accounts .acct[data-old]')
            || (document.dispatchEvent(new Event('visibilitychange')), false)""", polling=500)
        assert rows.count() == LONG
        page.wait_for_function(TO_THE_END, polling=100)
        codes = {a["id"]: a["code"] for a in device.api("GET", "/api/codes")["accounts"]}
        page.wait_for_function("([id, codes]) => { const li = document.querySelector(`#accounts .acct[data-id='${id}']`);"
                               " return codes.includes(li.querySelector('.code').dataset.code)"
                               " && li.querySelector('.secs').textContent !== ''; }",
                               arg=[order[-1]["id"], [order[-1]["code"], codes[order[-1]["id"]]]])
        # search from down there: the one match (a row the page did not hold at first), Enter copies it
        page.fill("#search", order[-1]["name"])
        only = page.locator("#accounts .acct:not([hidden])")
        expect(only).to_have_count(1)
        assert only.locator(".issuer").inner_text() == order[-1]["issuer"]
        assert "only" in (only.get_attribute("class") or "")
        page.press("#search", "Enter")
        page.wait_for_function("() => document.getElementById('toast').classList.contains('show')")
        assert page.evaluate("navigator.clipboard.readText()") == only.locator(".code").get_attribute("data-code")
        # cleared: the first rows again (from the top), not all of them
        page.fill("#search", "")
        # rows go in after each frame as far as a screen and a half below the screen, then stop
        page.wait_for_function("() => document.querySelector('#accounts .list-rest').getBoundingClientRect().top"
                               " >= innerHeight * 2.5 - 1")
        shown = page.evaluate(IN_PAGE)
        assert 8 <= len(shown) < LONG / 2 and shown == [a["issuer"] for a in order[:len(shown)]]
        assert page.evaluate("scrollY") == 0
        assert page.locator("#accounts .acct.only").count() == 0
        # arranging: every row is in the page (dragging needs them), no room kept for others
        page.click("#reorder-btn")
        expect(rows).to_have_count(LONG)
        assert page.locator("#accounts .list-rest").count() == 0
        page.click("#arrange-done")
        page.wait_for_selector("#accounts .list-rest:not([hidden])", state="attached")
        assert rows.count() < LONG
        assert device.errors == []
    finally:
        device.close()


def api_order(device: Device) -> list[str]:
    return [a["issuer"] for a in device.api("GET", "/api/codes")["accounts"]]


def drag(page: Any, source: Any, target: Any) -> None:
    """A finger-like drag of `source`'s handle onto `target` (pointer down, moves, up)."""
    s = source.locator(".drag").bounding_box()
    t = target.bounding_box()
    page.mouse.move(s["x"] + s["width"] / 2, s["y"] + s["height"] / 2)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(s["x"] + s["width"] / 2, s["y"] + (t["y"] + 5 - s["y"]) * step / 10)
        page.wait_for_timeout(30)
    page.mouse.up()


def test_drag_reorder_survives_reload_and_backup_restore(browser: Any, server_factory: Any, tmp_path: Path,
                                                        screenshot_dir: Path) -> None:
    server = server_factory()
    phone = new_device(browser, server.origin)
    setup_device(phone, server)
    import_accounts(phone, ["Alpha", "Bravo", "Charlie", "Delta", "Echo"])
    page = phone.page
    try:
        phone.goto("/")
        page.click("#reorder-btn")
        page.wait_for_function("() => !!window.Sortable")
        rows = page.locator("#accounts .acct")
        page.screenshot(path=str(screenshot_dir / "list-arrange-390.png"))
        with page.expect_response("**/api/accounts/order"):
            drag(page, rows.nth(4), rows.nth(0))
        assert api_order(phone) == ["Echo", "Alpha", "Bravo", "Charlie", "Delta"]
        # "move to top"
        with page.expect_response("**/api/accounts/order"):
            page.locator("#accounts .acct", has_text="Charlie").locator(".move-top").click()
        assert api_order(phone) == ["Charlie", "Echo", "Alpha", "Bravo", "Delta"]
        page.reload()
        page.wait_for_selector("#accounts[data-started] .acct")
        assert page.locator("#accounts .acct .issuer").all_inner_texts() == ["Charlie", "Echo", "Alpha", "Bravo", "Delta"]
        # backup to a folder, restore on a new device of another server: the order comes along
        folder = tmp_path / "nas"
        folder.mkdir()
        key = phone.api("POST", "/api/backup/enable", {"target": {"kind": "folder", "path": str(folder)}})["recovery_key"]
        other = server_factory()
        laptop = new_device(browser, other.origin)
        try:
            setup_device(laptop, other)
            laptop.api("POST", "/api/backup/restore", {"target": {"kind": "folder", "path": str(folder)},
                                                       "recovery_key": key})
            assert api_order(laptop) == ["Charlie", "Echo", "Alpha", "Bravo", "Delta"]
        finally:
            laptop.close()
        assert phone.errors == []
    finally:
        phone.close()


def test_groups_favourites_and_aegis_round_trip(browser: Any, server_factory: Any, screenshot_dir: Path) -> None:
    server = server_factory()
    phone = new_device(browser, server.origin)
    setup_device(phone, server)
    import_accounts(phone, ["GitHub", "GitLab", "Bank One", "Bank Two", "Steam"])
    page = phone.page
    try:
        phone.goto("/")
        # create two groups in the dialog
        page.click("#groups-btn")
        for name in ("Work", "Money"):
            page.fill("#new-group", name)
            with page.expect_response("**/api/groups"):
                page.click("#new-group-btn")
        assert page.inner_text("#groups-error") == ""
        expect(page.locator("#groups-list li")).to_have_count(2)
        page.click("#groups-close")
        # assign through each account's edit page
        for issuer, group in (("GitHub", "Work"), ("GitLab", "Work"), ("Bank One", "Money"), ("Bank Two", "Money")):
            page.locator("#accounts .acct", has=page.locator(".issuer", has_text=issuer)).locator(".edit-link").click()
            page.select_option("#group", label=group)
            page.click("#edit-form button[type=submit]")
            page.wait_for_selector("#accounts[data-started] .acct")
        # a favourite is pinned at the top
        page.locator("#accounts .acct", has=page.locator(".issuer", has_text="Steam")).locator(".edit-link").click()
        page.check("#favorite")
        page.click("#edit-form button[type=submit]")
        page.wait_for_selector("#accounts[data-started] .acct")
        assert page.locator("#accounts .acct .issuer").first.inner_text().startswith("Steam")
        # the chip of a group shows its accounts only
        page.click(".chip[data-group='Money']")
        assert [t.strip() for t in page.locator("#accounts .acct:not([hidden]) .issuer").all_inner_texts()] == ["Bank One", "Bank Two"]
        page.screenshot(path=str(screenshot_dir / "list-groups-390.png"))
        # Aegis export (plain) keeps the groups as Aegis groups; a fresh device imports them back
        db = phone.api("POST", "/api/export", {"format": "aegis-plain", "i_understand_unencrypted": True,
                                               "passphrase": PASSPHRASE})["db"]
        names = {g["uuid"]: g["name"] for g in db["groups"]}
        assert sorted(names.values()) == ["Money", "Work"]
        by_issuer = {e["issuer"]: [names[u] for u in e["groups"]] for e in db["entries"]}
        assert by_issuer["GitHub"] == ["Work"] and by_issuer["Bank Two"] == ["Money"] and by_issuer["Steam"] == []
        assert [e["favorite"] for e in db["entries"] if e["issuer"] == "Steam"] == [True]
        other = server_factory()
        tablet = new_device(browser, other.origin, **TABLET)
        try:
            setup_device(tablet, other)
            req = tablet.context.request
            token = req.get(other.origin + "/api/session").json()["csrf_token"]
            resp = req.post(other.origin + "/api/import", headers={"X-CSRFToken": token},
                            multipart={"file": {"name": "aegis.json", "mimeType": "application/json",
                                                "buffer": json.dumps({"version": 1, "header": {"slots": None, "params": None},
                                                                      "db": db}).encode()},
                                       "confirm": "true"})
            assert resp.ok, resp.text()
            tablet.goto("/")
            tablet.page.wait_for_selector("#accounts[data-started] .acct")
            chips = tablet.page.locator(".chip[data-group]").all_inner_texts()
            assert "Work" in chips and "Money" in chips
            tablet.page.click(".chip[data-group='Work']")
            assert sorted(tablet.page.locator("#accounts .acct:not([hidden]) .issuer").all_inner_texts()) == ["GitHub", "GitLab"]
            tablet.page.screenshot(path=str(screenshot_dir / "list-groups-820.png"))
        finally:
            tablet.close()
        assert phone.errors == []
    finally:
        phone.close()


def test_after_adding_the_list_marks_the_new_account(phone: Device) -> None:
    page = phone.page
    import_accounts(phone, [f"Shop {i}" for i in range(30)])
    phone.goto("/add")
    page.fill("#uri", "otpauth://totp/GitHub:alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=GitHub")
    page.click("#uri-form button[type=submit]")
    page.wait_for_url(phone.origin + "/")
    new = page.locator("#accounts .acct.new")
    new.wait_for()
    assert new.locator(".issuer").inner_text() == "GitHub"
    assert "Added GitHub" in page.inner_text("#toast")
    box = new.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= 844   # scrolled into view
    # names are text, never markup
    phone.api("POST", "/api/accounts", {"uri": "otpauth://totp/%3Cb%3EEvil%3C%2Fb%3E:x?secret=KRSXG5CTMVRXEZLU"})
    phone.goto("/")
    evil = page.locator("#accounts .acct", has=page.locator(".issuer", has_text="Evil"))
    assert evil.locator(".issuer").text_content() == "<b>Evil</b>"
    assert page.locator("#accounts b").count() == 0
    assert phone.errors == []


ALIASES = [  # issuer as services write it in their QR codes -> the bundled icon, or None (initial)
    ("Google", "google"), ("accounts.google.com", "google"), ("Google Workspace", "google"), ("Gmail", "gmail"),
    ("Microsoft", None), ("Microsoft Account", None), ("login.microsoftonline.com", None),
    ("GitHub", "github"), ("github.com", "github"), ("GitHub Enterprise", "github"),
    ("Amazon", None), ("Amazon Web Services", None), ("AWS", None),
    ("Steam", "steam"), ("Steam Guard", "steam"), ("steampowered.com", "steam"),
    ("Battle.net", "battledotnet"), ("Blizzard", "battledotnet"), ("Epic Games", "epicgames"),
    ("Twitter", "x"), ("X", "x"), ("Proton", "proton"), ("ProtonMail", "protonmail"), ("1Password", "1password"),
    ("Discord", "discord"), ("DigitalOcean", "digitalocean"), ("npm", "npm"), ("PyPI", "pypi"),
    ("ＧｉｔＨｕｂ", "github"), ("Zyxel Portal", None), ("Acme Bank", None), ("", None),
]


def test_icon_alias_table(browser: Any, hundred: dict) -> None:
    device = open_list(browser, hundred, PHONE)
    try:
        got = device.page.evaluate("(names) => names.map((n) => window.AuthVault.list.matchIcon(n))",
                                   [name for name, _ in ALIASES])
        assert list(zip([n for n, _ in ALIASES], got, strict=True)) == ALIASES
    finally:
        device.close()


def test_sort_hide_codes_and_next_code_settings(phone: Device) -> None:
    page = phone.page
    import_accounts(phone, ["Charlie", "alpha", "Bravo"])
    phone.goto("/")
    page.wait_for_selector("#accounts[data-started] .acct")
    issuers_shown = lambda: [t.strip() for t in page.locator("#accounts .acct .issuer").all_text_contents()]  # noqa: E731
    assert issuers_shown() == ["Charlie", "alpha", "Bravo"]          # my order: as imported
    assert page.locator("#accounts .next-code").count() == 0          # the next code is off by default
    page.select_option("#sort", "az")
    assert issuers_shown() == ["alpha", "Bravo", "Charlie"]          # A-Z, case-blind
    # recently used: copy Bravo, then it comes first
    page.select_option("#sort", "recent")
    page.locator("#accounts .acct", has_text="Bravo").locator(".code").click()
    # the copy is done (it is written down as used only once it worked), then the reload: reloading
    # while the clipboard write was still on its way lost the use (failed once under load)
    page.wait_for_function("() => document.getElementById('toast').textContent.includes('Bravo')")
    assert len(page.evaluate("JSON.parse(localStorage.getItem('authvault.used'))")) == 1
    page.reload()
    page.wait_for_selector("#accounts[data-started] .acct")
    assert page.input_value("#sort") == "recent" and issuers_shown()[0] == "Bravo"
    # Settings: show the next code; hide codes until tapped (a hidden code shows no next code either)
    phone.goto("/settings")
    page.check("#show_next")
    phone.goto("/")
    page.wait_for_selector("#accounts[data-started] .acct")
    assert page.locator("#accounts .next-code").count() == 3
    phone.goto("/settings")
    page.check("#hide_codes")
    phone.goto("/")
    page.wait_for_selector("#accounts[data-started] .acct")
    code = page.locator("#accounts .acct", has_text="alpha").locator(".code")
    assert "•" in code.text_content() and not any(c.isdigit() for c in code.text_content())
    assert page.locator("#accounts .next-code").count() == 0
    code.click()
    assert code.text_content().replace(" ", "").isdigit()            # shown after a tap
    assert phone.errors == []


def test_unlock_shows_the_list_without_a_second_page_load(phone: Device) -> None:
    """After the passphrase, the list appears in place: no navigation, the codes are the server's,
    the page locks itself again when idle (its idle-lock time is there) and the lock button works."""
    page = phone.page
    import_accounts(phone, ["GitHub", "Steam"])
    phone.api("POST", "/api/lock")
    phone.goto("/")
    page.wait_for_selector("#unlock-form button[type=submit]:not([disabled])")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.fill("#passphrase", PASSPHRASE)
    page.click("#unlock-form button[type=submit]")
    page.wait_for_selector("#accounts[data-started] .acct .code")
    assert navigations == []
    assert page.locator("#accounts .acct").count() == 2
    assert page.locator("#accounts .acct[data-icon], #accounts .av[data-icon='github']").count() == 1
    server = {a["issuer"]: a for a in phone.api("GET", "/api/codes")["accounts"]}
    shown = page.locator("#accounts .acct", has_text="GitHub").locator(".code").get_attribute("data-code")
    assert shown in (server["GitHub"]["code"], server["GitHub"]["next_code"])
    assert page.get_attribute('meta[name="idle-lock-seconds"]', "content")
    page.fill("#search", "ste")
    assert page.locator("#accounts .acct:not([hidden])").count() == 1
    page.click("#lock-btn")
    page.wait_for_selector("#unlock-form")
    assert phone.errors == []


@pytest.mark.parametrize("path", ["/api/backup?check=1", "/api/offline-copy", "/api/codes"])
def test_lock_with_a_call_in_flight_leaves_no_401(phone: Device, path: str) -> None:
    """The list's calls (the backup check, the offline copy, a code refresh) may still be on their way
    when the person taps Lock; reaching the server after the lock they were answered 401, a console
    error (the cause of a flaky test). Locking cancels them first."""
    page = phone.page
    import_accounts(phone, ["GitHub", "Steam"])
    held: list[Any] = []
    page.route(f"**{path}*", lambda route: held.append(route))
    phone.api("POST", "/api/lock")
    phone.goto("/")
    page.wait_for_selector("#unlock-form button[type=submit]:not([disabled])")
    page.fill("#passphrase", PASSPHRASE)
    page.click("#unlock-form button[type=submit]")          # unlocked in place: the list's calls start
    page.wait_for_selector("#accounts[data-started] .acct .code")
    if path == "/api/codes":
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_function("() => true")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(20)
    assert held, f"the list never called {path}"

    def lock(route: Any) -> None:                            # the server locks, then the held call arrives
        answer = route.fetch()
        for one in held:
            try:
                one.continue_()
            except Exception:  # noqa: BLE001 - cancelled by the page meanwhile: what the fix does
                pass
        page.wait_for_timeout(400)
        route.fulfill(response=answer)
    page.route("**/api/lock", lock)
    page.click("#lock-btn")
    page.wait_for_selector("#unlock-form")
    page.wait_for_timeout(300)
    assert phone.errors == []


def test_the_backup_account_is_asked_once_per_visit(phone: Device, tmp_path: Path) -> None:
    """The list's takeover banner and the backup mark read one GET /api/backup?check=1 (it asks
    the backup account, another server), not one each; a second visit asks again."""
    folder = tmp_path / "nas"
    folder.mkdir()
    phone.api("POST", "/api/backup/enable", {"target": {"kind": "folder", "path": str(folder)}})
    checks: list[str] = []
    phone.page.on("request", lambda req: checks.append(req.url) if "/api/backup?check=1" in req.url else None)
    for visit in (1, 2):
        phone.goto("/")
        phone.page.wait_for_selector("#backup-mark", state="attached")
        phone.page.wait_for_timeout(500)
        assert len(checks) == visit, checks
    assert phone.errors == []


def test_a_call_started_while_the_lock_is_on_its_way_leaves_no_401(phone: Device) -> None:
    """A code refresh that falls due after Lock was tapped but before the server answered it
    reached a locked server: a 401 and a console error (seen once on an idle machine in a full
    run). Calls started while locking are cancelled at once."""
    page = phone.page
    import_accounts(phone, ["GitHub", "Steam"])
    phone.goto("/")
    page.wait_for_selector("#accounts[data-started] .acct .code")
    late: list[str] = []
    page.on("response", lambda r: r.status == 401 and late.append(r.url))

    def lock(route: Any) -> None:                      # the server locks; then a refresh falls due
        answer = route.fetch()
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        page.wait_for_timeout(400)
        route.fulfill(response=answer)
    page.route("**/api/lock", lock)
    page.click("#lock-btn")
    page.wait_for_selector("#unlock-form")
    page.wait_for_timeout(300)
    assert late == [] and phone.errors == []
