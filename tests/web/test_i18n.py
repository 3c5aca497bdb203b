"""The Japanese catalog covers every message in the code and templates, and pages come out in Japanese.

The messages are extracted afresh from the sources (babel.cfg, as scripts/update-translations does),
so a message added without a translation fails here, naming it; run scripts/update-translations,
translate what it lists, and run it again.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from authvault.config import Settings
from authvault.web import create_app
from tests.conftest import PASSPHRASE, SETUP_TOKEN, Api

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "authvault" / "translations" / "ja" / "LC_MESSAGES" / "messages.po"
# %(name)s and %s-style (gettext, Python) and {name} (filled in by the pages' scripts).
PLACEHOLDER = re.compile(r"%\(\w+\)[sdifr]|%[sdifr]|\{\w+\}")
KANA_OR_KANJI = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _ids(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]


def _strings(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def _label(message: Message) -> str:
    where = ", ".join(f"{path}:{line}" for path, line in message.locations[:2])
    return f"{_ids(message)[0]!r} ({where})"


def placeholders(text: str) -> list[str]:
    """The placeholders of a message as written (%(name)s, %s, {name}), sorted."""
    return sorted(m.group(0) for m in PLACEHOLDER.finditer(text))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """Every translatable message in authvault/**.py and templates/**.html, extracted now."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    # pybabel, run in the repository so the locations read authvault/... and templates/...
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
                    "-k", "N_", "-o", str(pot), "."], cwd=REPO, check=True)
    with pot.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def japanese() -> Catalog:
    """The Japanese catalog as committed."""
    with CATALOG.open("rb") as f:
        return read_po(f, locale="ja")


def test_extraction_finds_messages_in_code_and_templates(extracted: Catalog) -> None:
    paths = {path for m in extracted for path, _ in m.locations}
    assert any(p.startswith("authvault/") for p in paths)
    assert any(p.startswith("templates/") for p in paths)
    assert "The passphrase is not correct." in extracted  # an N_() message of a domain module
    assert "Add account" in extracted  # a template message


def test_every_message_has_a_japanese_translation(extracted: Catalog, japanese: Catalog) -> None:
    missing, fuzzy = [], []
    for message in extracted:
        if not message.id:
            continue
        translated = japanese.get(message.id, message.context)
        if translated is None or not all(s.strip() for s in _strings(translated)):
            missing.append(_label(message))
        elif translated.fuzzy:
            fuzzy.append(_label(message))
    assert not missing, (f"{len(missing)} message(s) have no Japanese translation (run "
                         f"scripts/update-translations, then translate them):\n  " + "\n  ".join(missing))
    assert not fuzzy, ("fuzzy translations (check them, then remove the '#, fuzzy' line):\n  "
                       + "\n  ".join(fuzzy))


def test_placeholders_match_between_english_and_japanese(japanese: Catalog) -> None:
    wrong = []
    for message in japanese:
        if not message.id or not any(_strings(message)):
            continue
        expected = placeholders(_ids(message)[-1])
        for text in _strings(message):
            if text and placeholders(text) != expected:
                wrong.append(f"{_label(message)}: {placeholders(text)} instead of {expected}")
    assert not wrong, "placeholders differ:\n  " + "\n  ".join(wrong)


def test_catalog_passes_babels_checks(japanese: Catalog) -> None:
    problems = [f"{_label(message)}: {errors}" for message, errors in japanese.check()]
    assert not problems, "\n".join(problems)


def test_translations_read_as_japanese(japanese: Catalog) -> None:
    """A translation that is the English text again, or has no Japanese in it, was not translated."""
    allowed_as_is = {"Android"}
    suspicious = [_label(m) for m in japanese
                  if m.id and _ids(m)[0] not in allowed_as_is and all(_strings(m))
                  and not any(KANA_OR_KANJI.search(s) for s in _strings(m))]
    assert not suspicious, "translations without Japanese text:\n  " + "\n  ".join(suspicious)


# --- pages and API messages in Japanese ------------------------------------------------------------

@pytest.fixture
def ja_app(tmp_path: Path, settings: Settings) -> Any:
    """The app with the Japanese catalog compiled just for this test (no build step needed)."""
    translations = tmp_path / "translations"
    mo = translations / "ja" / "LC_MESSAGES" / "messages.mo"
    mo.parent.mkdir(parents=True)
    with CATALOG.open("rb") as f:
        catalog = read_po(f, locale="ja")
    with mo.open("wb") as f:
        write_mo(f, catalog)
    return create_app(settings, {"TESTING": True, "BABEL_TRANSLATION_DIRECTORIES": str(translations)})


def test_pages_follow_accept_language(ja_app: Any) -> None:
    client = ja_app.test_client()
    html = client.get(f"/setup?token={SETUP_TOKEN}", headers={"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5"}).text
    assert '<html lang="ja">' in html
    assert "パスフレーズ" in html and "Choose a passphrase" not in html
    english = client.get(f"/setup?token={SETUP_TOKEN}", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    assert '<html lang="en">' in english and "Choose a passphrase" in english


def test_list_page_and_api_errors_in_japanese(ja_app: Any) -> None:
    api = Api(ja_app.test_client())
    api.setup()
    ja = {"Accept-Language": "ja"}
    page = api.client.get("/", headers=ja).text
    assert "アカウントを追加" in page and "Add account" not in page
    api.post("/api/lock")
    wrong = api.post("/api/unlock", {"passphrase": PASSPHRASE + "x"}, headers=ja)
    assert wrong.status_code in (400, 401, 403)
    assert wrong.get_json()["error"]["message"] == "パスフレーズが正しくありません。"
    assert api.client.get("/", headers=ja).text.count("ロック") >= 1


def test_language_chosen_in_settings_wins_over_the_browser(ja_app: Any) -> None:
    api = Api(ja_app.test_client())
    api.setup()
    resp = api.patch("/api/settings", {"language": "ja"}, headers={"Accept-Language": "en"})
    assert resp.status_code == 200
    page = api.client.get("/", headers={"Accept-Language": "en"}).text
    assert '<html lang="ja">' in page and "アカウントを追加" in page


def test_script_strings_are_one_dictionary() -> None:
    """static/js/core.js merges base.html's #i18n and every page's `class="i18n"` block into one
    dictionary: a key may appear in two blocks only with the same message, or one page's string
    would silently replace another's."""
    import re

    from tests.paths import REPO
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    blocks = 0
    for path in sorted((REPO / "templates").rglob("*.html")):
        text = path.read_text()
        for tag, body in re.findall(r'(<script type="application/json"[^>]*>)\{\{ \{(.*?)\} \| tojson', text, re.S):
            if 'id="i18n"' not in tag and 'class="i18n"' not in tag:
                continue
            blocks += 1
            for key, message in re.findall(r'^\s*"(\w+)":\s*(.+?),?\s*$', body, re.M):
                where = str(path.relative_to(REPO))
                if key in seen and seen[key][1] != message:
                    clashes.append((key, seen[key][0], where))
                seen.setdefault(key, (where, message))
    assert blocks >= 7
    assert clashes == []
    # every script reads the one dictionary: no page script parses a strings block of its own
    for js in (REPO / "static").rglob("*.js"):
        if "vendor" in js.parts:
            continue
        assert not re.search(r'getElementById\("[\w-]*(i18n|strings)"\)', js.read_text()), js
