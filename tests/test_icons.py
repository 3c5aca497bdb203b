"""The bundled icons the list knows (static/js/icons.js) agree with the vendored simple-icons."""
from __future__ import annotations

import json
import re
import subprocess
import sys

from tests.paths import REPO

ICONS_JS = (REPO / "static/js/icons.js").read_text()
VENDOR = REPO / "static/vendor/simple-icons"


def _table(name: str) -> dict:
    body = re.search(name + r": (\{.*?\n?\s*\}),\n", ICONS_JS, re.S)[1]
    body = re.sub(r"(\w+):", r'"\1":', body) if name == "aliases" else body
    return json.loads(re.sub(r",\s*\}", "}", body))


def test_slug_table_is_the_vendored_icons_json() -> None:
    icons = json.loads((VENDOR / "icons.json").read_text())
    assert _table("slugs") == {slug: v["hex"].upper() for slug, v in icons.items()}
    assert subprocess.run([sys.executable, str(REPO / "scripts/icon-table"), "--check"]).returncode == 0


def test_every_slug_has_a_symbol_in_the_sprite() -> None:
    sprite = (VENDOR / "icons.svg").read_text()
    symbols = set(re.findall(r'<symbol id="si-([a-z0-9]+)"', sprite))
    assert set(_table("slugs")) <= symbols


def test_every_alias_names_a_bundled_icon_or_none() -> None:
    slugs = _table("slugs")
    aliases = _table("aliases")
    assert len(aliases) > 40
    for key, slug in aliases.items():
        assert re.fullmatch(r"[a-z0-9]+", key), key
        assert slug is None or slug in slugs, (key, slug)
    # brands simple-icons removed stay on their initial, never on a look-alike
    for key in ("microsoft", "amazon", "aws", "linkedin", "slack"):
        assert aliases[key] is None
