"""The service icons a list uses, and only those: `GET /static/icons.svg?v=<hash>&s=github.google`.

The list (static/js/list.js, spriteURL) names the icons its accounts show, sorted, joined by dots;
the answer is an SVG sprite of just those symbols, cut from the vendored simple-icons sprite
(static/vendor/simple-icons/icons.svg, 144 icons, 53 KB compressed), so a list of 100 accounts with
18 brands fetches about 7 KB. `v` is the vendored sprite's hash: with the current one the answer is
cached for good (a new simple-icons gives new URLs); the icon names sit in the query, which the
access log leaves out. The path is under /static/ so the service worker keeps it for the offline
list. Nothing is fetched from the internet, and nothing comes from an otpauth `image=`.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue

from ..errors import N_
from .http import ApiError
from .list_rows import SPRITE, sprite_base
from .static_files import YEAR, file_version

bp = Blueprint("icons", __name__)

MAX_QUERY = 4096                                   # 144 slugs of at most 24 letters, with dots
_SYMBOL = re.compile(r'<symbol id="si-([a-z0-9]+)" .*?</symbol>', re.S)
_SLUGS = re.compile(r"[a-z0-9]+(?:\.[a-z0-9]+)*")
@functools.lru_cache(maxsize=8)
def _parse(path: str, version: str) -> dict[str, str]:
    # Keyed by the sprite's hash, so a new sprite is read again; thread-safe and bounded.
    try:
        text = Path(path).read_text()
    except OSError:
        text = ""
    return {m[1]: m[0] for m in _SYMBOL.finditer(text)}


def symbols() -> tuple[str, dict[str, str]]:
    """The vendored sprite's version and its symbols by slug (read again when the file changes)."""
    folder = current_app.static_folder or ""
    version = file_version(folder, SPRITE) or ""
    return version, _parse(str(Path(folder) / SPRITE), version)


bp.add_app_template_global(sprite_base, "icon_sprite_url")


@bp.get("/static/icons.svg")
def sprite() -> ResponseReturnValue:
    """The symbols named in `s` (dot-separated slugs), in that order."""
    version, table = symbols()
    wanted = request.args.get("s", "")
    if len(wanted) > MAX_QUERY or (wanted and not _SLUGS.fullmatch(wanted)):
        raise ApiError(400, "invalid_icons", N_("Name the icons as their slugs, separated by dots."))
    slugs = list(dict.fromkeys(wanted.split("."))) if wanted else []
    unknown = [s for s in slugs if s not in table]
    if unknown:
        raise ApiError(404, "unknown_icon", N_("There is no bundled icon named %(name)s."), name=unknown[0][:40])
    body = '<svg xmlns="http://www.w3.org/2000/svg">\n' + "".join(table[s] + "\n" for s in slugs) + "</svg>\n"
    resp = Response(body, mimetype="image/svg+xml")
    if version and request.args.get("v") == version:
        resp.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:                                          # a page from before an update: not kept
        resp.headers["Cache-Control"] = "no-cache"
    return resp
