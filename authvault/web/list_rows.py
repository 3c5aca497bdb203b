"""The first screenful of the account list, drawn by the server: the codes are in the page itself.

static/js/list.js draws the list in the browser (renderList; the offline view has no server). A
list drawn only there shows its first code after the page's scripts have run: on a slow phone the
list reached its first code at 1.2-1.5x a static page of the same codes. So the list page carries
its first rows already drawn, the same markup as list.js's `rowHTML` (tests/browser/test_list_rows_e2e.py
compares the two, row by row), and list.js takes them over after the first frame is painted.

The server draws them only when it knows how the browser would: list.js keeps this browser's list
options in a cookie (`authvault_list`, "c1.h0.n0.manual": compact, hide codes, show the next code,
the sort), written each time the list runs. Without the cookie, or with a sort other than the
person's own order (A-Z collates in the browser's language, "recently used" is this browser's
record), the page carries no rows and list.js draws them as before.

The icon matching here is list.js's `matchIcon` and `slugOf` (same tables, read from
static/js/icons.js), and `hue` its coloured initials; the test above runs both over the same names.
"""
from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext
from markupsafe import Markup, escape

from .static_files import file_version

COOKIE = "authvault_list"
HOTP_PENDING_COOKIE = "authvault_hotp_pending"
FIRST_SCREEN = 24                                  # list.js's FIRST_SCREEN: rows a tablet shows before scrolling
FAV = "\u2605"
SPRITE = "vendor/simple-icons/icons.svg"           # the bundled icons, cut per list by authvault/web/icons.py
_PREFS = re.compile(r"c([01])\.h([01])\.n([01])\.(manual|az|recent)")


@dataclass(frozen=True)
class ListPrefs:
    """This browser's list options, as list.js last wrote them (`compact` already resolved for its screen)."""
    compact: bool
    hide_codes: bool
    show_next: bool
    sort: str


def read_prefs(value: str | None) -> ListPrefs | None:
    """The cookie's options; None when it is missing or not list.js's."""
    m = _PREFS.fullmatch(value or "")
    if not m:
        return None
    return ListPrefs(compact=m[1] == "1", hide_codes=m[2] == "1", show_next=m[3] == "1", sort=m[4])


# --- icons: list.js's matchIcon / slugOf -----------------------------------------------------------

class IconTables:
    """The slug set and the alias table of static/js/icons.js, and the issuers matched so far
    (as list.js's `matched`: a list names the same issuers again and again, and the page asks
    for every account's icon to name its sprite)."""

    MAX_MATCHED = 10_000                            # issuers are the person's data: bounded

    def __init__(self, slugs: frozenset[str], aliases: dict[str, str | None]) -> None:
        self.slugs, self.aliases = slugs, aliases
        self._matched: dict[str, str | None] = {}

    def match(self, issuer: str) -> str | None:
        """The bundled icon of an issuer, or None (a coloured initial)."""
        if issuer in self._matched:
            return self._matched[issuer]
        if len(self._matched) >= self.MAX_MATCHED:
            self._matched.clear()
        slug = self._matched[issuer] = self._match(issuer)
        return slug

    def _match(self, issuer: str) -> str | None:
        text = fold(issuer).strip()
        if not text:
            return None
        tries = [_key(text)]
        host = _HOST.fullmatch(text)
        if host:
            tries.append(_key(host[1]))
        first = _WORD_END.split(text)[0]
        if first:
            tries.append(_key(first))
        for k in tries:
            if not k:
                continue
            if k in self.aliases:
                return self.aliases[k]
            if k in self.slugs:
                return k
        return None

    def slug_of(self, acc: dict[str, Any]) -> str | None:
        """The icon an account shows: the one chosen on its edit page, else its issuer's."""
        icon = acc.get("icon")
        if icon == "letter":
            return None
        if icon and icon in self.slugs:
            return str(icon)
        return self.match(acc.get("issuer") or "")


@functools.lru_cache(maxsize=4)
def parse_tables(path: str, version: str) -> IconTables:
    """static/js/icons.js's tables (keyed by its version, so one object per version)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return IconTables(frozenset(), {})
    slugs = re.search(r"slugs: (\{.*?\}),\n", text, re.S)
    aliases = re.search(r"aliases: (\{.*?\n\s*\}),\n", text, re.S)
    if not slugs or not aliases:
        return IconTables(frozenset(), {})
    quoted = re.sub(r"(\w+):", r'"\1":', aliases[1])
    return IconTables(frozenset(json.loads(slugs[1])), json.loads(re.sub(r",\s*\}", "}", quoted)))


def icon_tables() -> IconTables:
    """This app's icon tables (read again when icons.js changes)."""
    folder = current_app.static_folder or ""
    return parse_tables(str(Path(folder) / "js" / "icons.js"), file_version(folder, "js/icons.js") or "")


def fold(text: str) -> str:
    """list.js's fold: NFKC, lower case, accents dropped."""
    folded = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text or "").lower())
    return re.sub("[\u0300-\u036f]", "", folded)


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


_HOST = re.compile(r"(?:[a-z0-9-]+\.)*?([a-z0-9-]+)\.[a-z]{2,}(?:\.[a-z]{2})?")
_WORD_END = re.compile(r"[\s:(,/|@-]+")


def match_icon(issuer: str) -> str | None:
    """list.js's matchIcon: the bundled icon of an issuer, or None (a coloured initial)."""
    return icon_tables().match(issuer)


def hue(text: str) -> int:
    """The hue class (0-35) of a coloured initial."""
    h = 0
    for ch in text:
        h = (h * 31 + ord(ch)) % 360
    return h // 10


def sprite_base() -> str:
    """The URL of the icon sprite without its icons (list.js adds `&s=`; so does sprite_url)."""
    return url_for("icons.sprite", v=file_version(current_app.static_folder or "", SPRITE) or "")


def sprite_url(base: str, accounts: list[dict[str, Any]], tables: IconTables) -> str:
    """list.js's spriteURL: the sprite of just the icons these accounts show."""
    slugs = sorted({s for s in (tables.slug_of(a) for a in accounts) if s})
    if not base or not slugs:
        return ""
    return f"{base}{'&' if '?' in base else '?'}s={'.'.join(slugs)}"


# --- rows: list.js's rowHTML -------------------------------------------------------------------------

def group_code(code: str | None) -> str:
    """core.js's groupCode: "123 456", "1234 5678", "123 4567"."""
    if not code:
        return ""
    if code.isdigit() and code.isascii() and len(code) in (6, 8):
        half = len(code) // 2
        return code[:half] + " " + code[half:]
    if code.isdigit() and code.isascii() and len(code) == 7:
        return code[:3] + " " + code[3:]
    return code


def _masked(digits: int) -> str:
    return "\u2022\u2022\u2022 \u2022\u2022\u2022" if digits == 6 else "\u2022" * digits


def _avatar(acc: dict[str, Any], sprite: str, tables: IconTables) -> str:
    title = acc.get("issuer") or acc.get("name") or "?"
    slug = tables.slug_of(acc)
    if slug and sprite:
        return (f'<span class="av icon-av si-{slug}" data-icon="{slug}" aria-hidden="true">'
                f'<svg viewBox="0 0 24 24"><use href="{escape(sprite)}#si-{slug}"></use></svg></span>')
    letter = title.strip()[:1] or "?"
    return (f'<span class="av letter-av hue-{hue(_key(title) or title)}" aria-hidden="true">'
            f"{escape(letter.upper())}</span>")


def row_html(acc: dict[str, Any], prefs: ListPrefs, sprite: str, now: float, tables: IconTables) -> str:
    """One row, as list.js's rowHTML draws it with these options (and its countdown at `now`)."""
    e = escape
    title = acc.get("issuer") or acc.get("name") or "\u2014"
    label = f'<div class="label">{e(acc["name"])}</div>' if acc.get("issuer") and acc.get("name") else ""
    fav = f'<span class="fav-mark" title="{e(gettext("Favourite"))}">{FAV}</span>' if acc.get("favorite") else ""
    digits = acc.get("digits") or 6
    totp = acc.get("type") != "hotp"
    period = acc.get("period") or 0
    left = period - (now % period) if period else 0.0
    ending = totp and not acc.get("action_required") and bool(period) and left <= 5
    cls = ("acct" + (" needs-action" if acc.get("action_required") else "") + (" is-fav" if acc.get("favorite") else "")
           + (" long-code" if digits > 6 else "") + (" with-next" if prefs.show_next and totp else "")
           + (" ending" if ending else ""))
    if acc.get("action_required"):
        body = (f'<p class="action">{e(gettext("Action required: scan a new QR code from %(issuer)s", issuer=title))}</p>'
                f'<a class="btn small" href="/add">{e(gettext("Scan QR code"))}</a>')
    else:
        shown = _masked(digits) if prefs.hide_codes else group_code(acc.get("code"))
        if totp:
            # list.js's tick: the seconds left, rounded up (the ring's fill follows once it runs)
            secs = str(math.ceil(left - 1e-6) or period) if period else ""
            timer = f'<span class="ring" aria-hidden="true"><span class="secs">{secs}</span></span>'
        else:
            counter = "" if acc.get("counter") is None else acc["counter"]
            timer = (f'<button type="button" class="btn small next-hotp">{e(gettext("Next code"))}</button>'
                     f'<span class="counter">#{counter}</span>')
        nxt = (f'<span class="next">{e(gettext("next"))} <span class="next-code">{e(group_code(acc.get("next_code")))}</span></span>'
               if totp and prefs.show_next and not prefs.hide_codes else "")
        body = (f'<button type="button" class="code{" masked" if prefs.hide_codes else ""}" data-code="{e(acc.get("code") or "")}" '
                f'aria-label="{e(gettext("Copy code"))}: {e(title)}">{e(shown)}</button>'
                f'<div class="meta">{nxt}{timer}</div>')
    aid = e(acc["id"])
    # never arranging: no drag handle, no move buttons (list.js draws them when arranging starts)
    return (f'<li class="{cls}" data-id="{aid}" data-type="{e(acc.get("type") or "")}" data-period="{acc.get("period") or ""}">'
            f'{_avatar(acc, sprite, tables)}'
            f'<div class="acct-text"><div class="issuer">{e(title)}{fav}</div>{label}</div>{body}'
            f'<div class="row-actions"><a class="link edit-link" href="/accounts/{aid}" aria-label="{e(gettext("Edit"))}: {e(title)}">'
            f'<span class="dots" aria-hidden="true">\u22ef</span><span class="t">{e(gettext("Edit"))}</span></a></div></li>')


def first_rows(accounts: list[dict[str, Any]], prefs: ListPrefs | None, sprite_base: str, now: float) -> Markup:
    """The rows the list shows first, in the person's own order with favourites on top; empty when
    the browser's options are not known here (list.js then draws every row)."""
    if prefs is None or prefs.sort != "manual":
        return Markup("")
    order = [a for a in accounts if a.get("favorite")] + [a for a in accounts if not a.get("favorite")]
    tables = icon_tables()
    sprite = sprite_url(sprite_base, accounts, tables)
    return Markup("".join(row_html(a, prefs, sprite, now, tables) for a in order[:FIRST_SCREEN]))
