"""The list's first screenful drawn by the server (authvault/web/list_rows.py): which rows, with
which options, and the icons and colours list.js would give them. The rows' markup against
list.js's own is compared in a browser (tests/browser/test_list_rows_e2e.py)."""
from __future__ import annotations

import base64
import hashlib
import re
import time
from html.parser import HTMLParser

import pyotp
import pytest

from authvault.web import list_rows
from tests.conftest import Api

SECRET = "JBSWY3DPEHPK3PXP"


def secret(i: int) -> str:
    return base64.b32encode(hashlib.sha256(b"row%d" % i).digest()[:20]).decode()


class Rows(HTMLParser):
    """The server's rows of a list page: each row's attributes and the text of its parts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []
        self.in_list = False
        self.stack: list[str] = []
        self.html_class = ""
        self.body_class = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "html":
            self.html_class = a.get("class") or ""
        if tag == "body":
            self.body_class = a.get("class") or ""
        if tag == "ul" and a.get("id") == "accounts":
            self.in_list = True
            self.first = a.get("data-first")
        if not self.in_list:
            return
        if tag == "li":
            self.rows.append({"attrs": a, "text": {}, "classes": {}})
        elif self.rows:
            cls = (a.get("class") or "").split()
            for c in cls:
                self.rows[-1]["classes"].setdefault(c, a)
            self.stack.append(cls[0] if cls else tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "ul" and self.in_list:
            self.in_list = False
        elif self.in_list and self.rows and tag != "li" and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.in_list and self.rows and self.stack:
            self.rows[-1]["text"][self.stack[-1]] = self.rows[-1]["text"].get(self.stack[-1], "") + data


def page(api: Api, cookie: str | None = None, **extra: str) -> Rows:
    if cookie is not None:
        api.client.set_cookie(list_rows.COOKIE, cookie, domain="localhost")
    else:
        api.client.delete_cookie(list_rows.COOKIE, domain="localhost")
    for k, v in extra.items():
        api.client.set_cookie(k, v, domain="localhost")
    resp = api.get("/")
    assert resp.status_code == 200
    parser = Rows()
    parser.first = None
    parser.feed(resp.get_data(as_text=True))
    return parser


def add(api: Api, uri: str) -> dict:
    resp = api.post("/api/accounts", {"uri": uri})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["added"][0]


@pytest.fixture
def thirty(unlocked: Api) -> Api:
    """30 accounts: GitHub (a known icon), then Shop 01..29; Shop 07 a favourite; one HOTP."""
    add(unlocked, f"otpauth://totp/GitHub:me?secret={secret(0)}&issuer=GitHub")
    for i in range(1, 30):
        if i == 5:
            add(unlocked, f"otpauth://hotp/Shop%2005:me?secret={secret(5)}&issuer=Shop%2005&counter=7")
            continue
        acc = add(unlocked, f"otpauth://totp/Shop%20{i:02d}:me%40example.com?secret={secret(i)}&issuer=Shop%20{i:02d}")
        if i == 7:
            assert unlocked.patch(f"/api/accounts/{acc['id']}", {"favorite": True}).status_code == 200
    return unlocked


def test_no_rows_without_the_browsers_options(thirty: Api) -> None:
    for cookie in (None, "", "c1.h0.n0", "c1.h0.n0.manual;x", "c2.h0.n0.manual", "c1.h0.n0.az", "c1.h0.n0.recent"):
        got = page(thirty, cookie)
        assert got.rows == [] and got.first is None, cookie
    # after adding, list.js marks and scrolls to the new accounts itself
    assert page(thirty, "c1.h0.n0.manual").rows
    thirty.client.set_cookie(list_rows.COOKIE, "c1.h0.n0.manual", domain="localhost")
    assert "data-first" not in thirty.get("/?added=abc").get_data(as_text=True)


def test_first_screenful_in_the_persons_order_with_the_known_codes(thirty: Api) -> None:
    got = page(thirty, "c1.h0.n0.manual")
    assert got.first == "server" and got.body_class == "compact"
    assert len(got.rows) == list_rows.FIRST_SCREEN
    issuers = [r["text"]["issuer"] for r in got.rows]
    # favourites on top, then the person's order (the order they were added in)
    assert issuers[:3] == ["Shop 07", "GitHub", "Shop 01"] and "Shop 05" in issuers
    assert issuers[-1] == "Shop 23"
    assert got.rows[0]["classes"].get("fav-mark") is not None
    now = time.time()
    for row in got.rows:
        a = row["attrs"]
        i = 0 if row["text"]["issuer"] == "GitHub" else int(row["text"]["issuer"].split()[1])
        if a["data-type"] == "hotp":
            assert row["text"]["code"].replace(" ", "") == pyotp.HOTP(secret(i)).at(7)
            assert row["text"]["counter"] == "#7"
            continue
        totp = pyotp.TOTP(secret(i))
        expected = {totp.at(now), totp.at(now - 1), totp.at(now + 1)}      # a page read across a boundary
        code = row["classes"]["code"]["data-code"]
        assert code in expected and row["text"]["code"] == f"{code[:3]} {code[3:]}"
        assert 1 <= int(row["text"]["secs"]) <= 30
        assert a["data-period"] == "30"
    # the GitHub row has its icon, from the sprite of just this list's icons; a shop its initial
    gh = got.rows[1]["classes"]
    assert "si-github" in gh and gh["icon-av"]["data-icon"] == "github"
    assert re.search(r'<use href="/static/icons\.svg\?v=[0-9a-f]+&amp;s=github#si-github">',
                     thirty.get("/").get_data(as_text=True))
    assert "letter-av" in got.rows[0]["classes"] and got.rows[0]["text"]["av"] == "S"


def test_hidden_codes_are_never_in_the_rows_text(thirty: Api) -> None:
    got = page(thirty, "c0.h1.n1.manual")
    assert got.body_class == "" and len(got.rows) == list_rows.FIRST_SCREEN
    for row in got.rows:
        assert "masked" in row["classes"]
        assert row["text"]["code"] == "\u2022\u2022\u2022 \u2022\u2022\u2022"
        assert "next-code" not in row["text"]                 # the next code is not shown either
    shown = page(thirty, "c0.h0.n1.manual")
    totp_rows = [r for r in shown.rows if r["attrs"]["data-type"] == "totp"]
    assert all("with-next" in r["attrs"]["class"].split() for r in totp_rows)
    assert all(re.fullmatch(r"\d{3} \d{3}", r["text"]["next-code"]) for r in totp_rows)


def test_hotp_codes_used_offline_stay_hidden(thirty: Api) -> None:
    got = page(thirty, "c1.h0.n0.manual", authvault_hotp_pending="1")
    assert got.html_class == "hotp-pending"                  # static/offline.css hides their codes


def test_escaping_and_the_issuerless_row(unlocked: Api) -> None:
    add(unlocked, "otpauth://totp/%3Cb%3E%26%22'?secret=" + secret(1))             # no issuer: the name is the title
    add(unlocked, f"otpauth://totp/A%26B%3Cscript%3E:x%22y?secret={secret(2)}&issuer=A%26B%3Cscript%3E")
    text = unlocked.get("/").get_data(as_text=True)
    unlocked.client.set_cookie(list_rows.COOKIE, "c1.h0.n0.manual", domain="localhost")
    text = unlocked.get("/").get_data(as_text=True)
    rows = text[text.index('id="accounts"'):text.index("</ul>", text.index('id="accounts"'))]
    assert "<script>" not in rows and "<b>" not in rows
    got = page(unlocked, "c1.h0.n0.manual")
    assert [r["text"]["issuer"] for r in got.rows] == ["<b>&\"'", "A&B<script>"]
    assert got.rows[0]["text"].get("label") is None and got.rows[1]["text"]["label"] == 'x"y'


@pytest.mark.parametrize(("issuer", "slug"), [
    ("GitHub", "github"), ("github.com", "github"), ("accounts.google.com", "google"), ("Google Workspace", "google"),
    ("Battle.net", "battledotnet"), ("ＧｉｔＨｕｂ", "github"), ("Microsoft", None), ("Amazon Web Services", None),
    ("Steam Guard", "steam"), ("Acme Bank", None), ("", None), ("Proton AG", "proton"), ("npmjs.com", "npm"),
])
def test_icons_match_as_list_js_does(app, issuer: str, slug: str | None) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        assert list_rows.match_icon(issuer) == slug
        tables = list_rows.icon_tables()
        assert tables.slug_of({"issuer": issuer, "icon": "letter"}) is None
        assert tables.slug_of({"issuer": "Acme", "icon": "github"}) == "github"
        assert tables.slug_of({"issuer": issuer}) == slug == tables.match(issuer)     # the second time: remembered


def test_hues_and_grouped_codes_known_answers() -> None:
    # list.js: h = (h * 31 + code point) % 360, then tens of degrees
    assert list_rows.hue("a") == 9                          # 97 -> hue-9
    assert list_rows.hue("ab") == (97 * 31 + 98) % 360 // 10
    assert [list_rows.group_code(c) for c in ("123456", "12345678", "1234567", "R2D2X", "", None)] == \
        ["123 456", "1234 5678", "123 4567", "R2D2X", "", ""]
    assert list_rows.read_prefs("c1.h1.n0.az") == list_rows.ListPrefs(True, True, False, "az")
