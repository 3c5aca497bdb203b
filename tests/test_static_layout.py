"""The front end's floor plan (issue 10): static/js/core.js under every page, one script per part
of the product, each loaded only by the pages of its part (or of the parts it serves as a shared
widget, listed below), no static/app.js any more, no script in static/js that no page loads; the
same for stylesheets (app.css the shared base); markup several pages share written once, in
templates/_macros.html."""
from __future__ import annotations

import re

import jinja2.meta
import pytest
from flask import Flask

from tests.conftest import SETUP_TOKEN, Api
from tests.paths import REPO

TEMPLATES = REPO / "templates"
JS = REPO / "static" / "js"
EVERY_PART = frozenset({"*"})

# Each script of static/js and the parts (template folders) whose pages may load it.
SCRIPTS: dict[str, frozenset[str]] = {
    "core.js": EVERY_PART,                     # api, toast, busy, one dictionary, one date formatter
    "connection.js": EVERY_PART,               # the same: service worker, offline copy, the banner
    "unlock.js": frozenset({"unlock"}),
    "accounts.js": frozenset({"accounts"}),
    "scan.js": frozenset({"accounts"}),
    "list.js": frozenset({"accounts", "offline", "devices"}),   # devices: Settings' list options card
    "icons.js": frozenset({"accounts", "offline"}),
    "settings.js": frozenset({"devices"}),
    "strength.js": frozenset({"unlock", "devices"}),          # choosing a passphrase: setup, add a device, change it
    "passkeys.js": frozenset({"unlock", "devices", "moving"}),   # passkey prompts; moving: re-auth to export
    "backup.js": frozenset({"backup"}),
    "backup-mark.js": frozenset({"backup", "devices", "accounts"}),   # the backup health mark on the list and Settings
    "moving.js": frozenset({"moving"}),
    "sending.js": frozenset({"sending"}),
    "offline.js": frozenset({"offline"}),
    "offline-store.js": frozenset(),           # ES modules imported by connection.js and offline.js only
    "offline-vault.js": frozenset(),
}

# Each stylesheet of static/ and the parts whose pages may load it (app.css is the shared base).
STYLES: dict[str, frozenset[str]] = {
    "app.css": EVERY_PART,
    "offline.css": EVERY_PART,                 # offline/_head.html: the banner when the server is out of reach
    "accounts.css": frozenset({"accounts"}),
    "backup.css": frozenset({"backup", "devices", "accounts"}),   # with the health mark (backup/_mark.html)
    "devices.css": frozenset({"devices", "unlock"}),              # with passkeys/_head.html (the passkey step)
    "connect.css": frozenset({"connect"}),
    "transfer.css": frozenset({"moving", "sending"}),
}

STYLE_HREF = re.compile(r"""<link rel="stylesheet" href="\{\{\s*url_for\('static',\s*filename='([^']+)'\)""")
SCRIPT_SRC = re.compile(r"""<script[^>]*\bsrc="\{\{\s*url_for\('static',\s*filename='([^']+)'\)""")
IMPORT = re.compile(r"""^\s*import\b[^"']*["']\./([\w.-]+\.js)["']""", re.M)


def _env(app: Flask) -> jinja2.Environment:
    return app.jinja_env


def _referenced(env: jinja2.Environment, name: str) -> set[str]:
    """`name` and every template it extends, includes or imports from, transitively."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        source = (TEMPLATES / current).read_text()
        todo += [t for t in jinja2.meta.find_referenced_templates(env.parse(source)) if t]
    return seen


def _scripts_of(name: str) -> list[str]:
    return SCRIPT_SRC.findall((TEMPLATES / name).read_text())


def _pages() -> list[str]:
    """The templates that are pages: they name their page (`block page`) or are the offline shell."""
    return sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")
                  if "{% block page %}" in p.read_text() or 'data-page="offline"' in p.read_text())


def _page_scripts(env: jinja2.Environment, page: str) -> set[str]:
    return {s for t in _referenced(env, page) for s in _scripts_of(t)}


def test_the_scan_finds_the_pages_and_their_scripts(app: Flask) -> None:
    pages = _pages()
    assert "unlock/unlock.html" in pages and "offline/shell.html" in pages and len(pages) >= 15
    assert "js/core.js" in _page_scripts(_env(app), "accounts/edit.html")
    assert "js/accounts.js" in _page_scripts(_env(app), "accounts/edit.html")


def test_no_app_js_and_every_page_script_lives_in_static_js(app: Flask) -> None:
    assert not (REPO / "static" / "app.js").exists(), "static/app.js is back: put its code in the part's file"
    loaded = {s for p in TEMPLATES.rglob("*.html") for s in _scripts_of(str(p.relative_to(TEMPLATES)))}
    assert sorted(s for s in loaded if not s.startswith("js/")) == []


@pytest.mark.parametrize("page", _pages())
def test_a_page_loads_core_and_no_script_of_another_part(app: Flask, page: str) -> None:
    part = page.split("/")[0]
    scripts = _page_scripts(_env(app), page)
    assert "js/core.js" in scripts
    foreign = sorted(s for s in scripts
                     if not ({"*", part} & SCRIPTS.get(s.removeprefix("js/"), frozenset())))
    assert foreign == [], f"{page} ({part}) loads scripts of other parts"


def test_every_script_in_static_js_is_loaded_by_some_page(app: Flask) -> None:
    files = sorted(p.name for p in JS.glob("*.js"))
    assert files == sorted(SCRIPTS), "a script was added or removed: say which parts load it in SCRIPTS"
    loaded = {s.removeprefix("js/") for t in TEMPLATES.rglob("*.html") for s in _scripts_of(str(t.relative_to(TEMPLATES)))}
    todo = list(loaded)
    while todo:   # and the ES modules those scripts import
        for name in IMPORT.findall((JS / todo.pop()).read_text()):
            if name not in loaded:
                loaded.add(name)
                todo.append(name)
    assert sorted(set(files) - loaded) == [], "scripts no page loads (dead files)"


def _script_order(html: str) -> list[str]:
    return re.findall(r'<script[^>]*\bsrc="/static/js/([\w.-]+)\?v=', html)


def test_a_script_that_wraps_another_parts_page_loads_after_it(app: Flask) -> None:
    """passkeys.js adds the passkey to the unlock page that unlock.js made; list.js adds its options
    to settings.js's page: each reads AuthVault.pages when it runs, so it must come later."""
    api = Api(app.test_client())
    setup = _script_order(api.client.get(f"/setup?token={SETUP_TOKEN}").get_data(as_text=True))
    assert setup.index("core.js") < setup.index("unlock.js") < setup.index("passkeys.js")
    api.setup()
    settings = _script_order(api.client.get("/settings").get_data(as_text=True))
    assert settings.index("core.js") < settings.index("settings.js") < settings.index("list.js")
    api.post("/api/lock")
    unlock = _script_order(api.client.get("/").get_data(as_text=True))
    assert unlock.index("core.js") < unlock.index("unlock.js") < unlock.index("passkeys.js")


@pytest.mark.parametrize("markup, macro", [
    ("data-wait-script", "submit_button"),
    ('class="key-field"', "recovery_key_field"),
    ('class="strength"', "strength_meter"),
    ('_("Type it again")', "new_passphrase_fields"),
])
def test_repeated_markup_is_written_once_in_macros(markup: str, macro: str) -> None:
    """Markup several pages share lives in templates/_macros.html; pages call the macro."""
    copies = sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")
                    if p.name != "_macros.html" and markup in p.read_text())
    assert copies == [], f"{markup} written out again: use {macro} from _macros.html"
    assert f"macro {macro}(" in (TEMPLATES / "_macros.html").read_text()


def _styles_of(name: str) -> list[str]:
    return STYLE_HREF.findall((TEMPLATES / name).read_text())


@pytest.mark.parametrize("page", _pages())
def test_a_page_loads_no_stylesheet_of_another_part(app: Flask, page: str) -> None:
    part = page.split("/")[0]
    styles = {s for t in _referenced(_env(app), page) for s in _styles_of(t)}
    assert "app.css" in styles
    foreign = sorted(s for s in styles if not ({"*", part} & STYLES.get(s, frozenset())))
    assert foreign == [], f"{page} ({part}) loads stylesheets of other parts"


def test_every_stylesheet_is_loaded_by_some_page() -> None:
    files = sorted(p.name for p in (REPO / "static").glob("*.css"))
    assert files == sorted(STYLES), "a stylesheet was added or removed: say which parts load it in STYLES"
    loaded = {s for t in TEMPLATES.rglob("*.html") for s in _styles_of(str(t.relative_to(TEMPLATES)))}
    assert sorted(set(files) - loaded) == [], "stylesheets no page loads (dead files)"


I18N_BLOCK = re.compile(r'<script type="application/json"([^>]*)>\{\{ \{(.*?)\} \| tojson \}\}</script>', re.S)


def test_every_string_block_is_in_the_one_dictionary_and_each_key_is_defined_once() -> None:
    """core.js builds AuthVault.T from #i18n and every block of class i18n: a block outside it
    would be a second dictionary, and a key defined twice would be one string shadowing another."""
    where: dict[str, list[str]] = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = str(path.relative_to(TEMPLATES))
        for attrs, body in I18N_BLOCK.findall(path.read_text()):
            assert 'id="i18n"' in attrs or 'class="i18n"' in attrs, f"{name}: a string block outside AuthVault.T"
            for key in re.findall(r'^\s*"([\w-]+)":', body, re.M):
                where.setdefault(key, []).append(name)
    assert len(where) > 200, "the block scan is broken"
    assert {k: v for k, v in where.items() if len(v) > 1} == {}


def test_no_script_keeps_its_own_dictionary_date_formatter_or_core_helpers() -> None:
    """Strings come from AuthVault.T, times from AuthVault.when, toasts and the rest from core.js."""
    found = []
    own = re.compile(r"JSON\.parse\([^)]*(i18n|strings)|toLocale(Date|Time)?String|DateTimeFormat|RelativeTimeFormat"
                     r"|(function|const|let)\s+(toast|groupCode|copyText|formJSON|showError|when|api|busy|labelOf|fill)\b\s*(\(|=)")
    for path in sorted(JS.glob("*.js")):
        if path.name == "core.js":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if own.search(line):
                found.append(f"{path.name}:{number}: {line.strip()}")
    assert found == []
