"""The sprite of the icons a list uses (authvault/web/icons.py): just the symbols asked for, cut
from the vendored simple-icons sprite, cached for good under the vendored file's hash."""
from __future__ import annotations

import re
from typing import Any

from tests.conftest import Api
from tests.paths import REPO

VENDORED = (REPO / "static/vendor/simple-icons/icons.svg").read_text()


def vendored_symbol(slug: str) -> str:
    return re.search(rf'<symbol id="si-{slug}" .*?</symbol>', VENDORED, re.S)[0]


def sprite_base(unlocked: Api) -> str:
    page = unlocked.client.get("/").get_data(as_text=True)
    return re.search(r'data-sprite="([^"]+)"', page)[1].replace("&amp;", "&")


def test_the_list_names_the_sprite_route_with_the_vendored_hash(unlocked: Api) -> None:
    import hashlib
    base = sprite_base(unlocked)
    version = hashlib.sha256((REPO / "static/vendor/simple-icons/icons.svg").read_bytes()).hexdigest()[:12]
    assert base == f"/static/icons.svg?v={version}"


def test_only_the_icons_asked_for_in_that_order(unlocked: Api, app: Any) -> None:
    base = sprite_base(unlocked)
    resp = app.test_client().get(base + "&s=github.google.steam")     # no session needed: public icons
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    body = resp.get_data(as_text=True)
    assert body == ('<svg xmlns="http://www.w3.org/2000/svg">\n' + vendored_symbol("github") + "\n"
                    + vendored_symbol("google") + "\n" + vendored_symbol("steam") + "\n</svg>\n")
    assert re.findall(r'<symbol id="si-([a-z0-9]+)"', body) == ["github", "google", "steam"]
    assert len(body) < 4000 < len(VENDORED)
    # a slug twice is sent once; none at all is an empty sprite
    assert re.findall(r'id="si-(\w+)"', app.test_client().get(base + "&s=x.x").get_data(as_text=True)) == ["x"]
    assert app.test_client().get(base).get_data(as_text=True) == '<svg xmlns="http://www.w3.org/2000/svg">\n</svg>\n'


def test_an_old_version_is_answered_but_not_kept(app: Any) -> None:
    resp = app.test_client().get("/static/icons.svg?v=000000000000&s=github")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-cache"
    assert 'id="si-github"' in resp.get_data(as_text=True)


def test_bad_names_are_refused_in_words(app: Any) -> None:
    client = app.test_client()
    for query, status in (("s=github.nosuchbrand", 404), ("s=GitHub", 400), ("s=github..google", 400),
                          ("s=../etc/passwd", 400), ("s=" + "a." * 3000 + "a", 400), ("s=github%00", 400)):
        resp = client.get("/static/icons.svg?" + query, headers={"Accept": "application/json"})
        assert resp.status_code == status, query
        assert resp.get_json()["error"]["message"], query
    assert "nosuchbrand" in client.get("/static/icons.svg?s=github.nosuchbrand",
                                       headers={"Accept": "application/json"}).get_json()["error"]["message"]


def test_the_static_files_are_still_served(app: Any) -> None:
    resp = app.test_client().get("/static/icon.svg")
    assert resp.status_code == 200 and "<svg" in resp.get_data(as_text=True)
