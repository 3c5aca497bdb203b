"""The list's data (issue 14): groups, favourites and chosen icons in the vault, the page's embedded
JSON, versioned static files cached for good, and compressed responses."""
from __future__ import annotations

import gzip
import json
import re
from io import BytesIO

from authvault import otp
from authvault.model import Account
from authvault.vault import entries
from tests.conftest import PASSPHRASE, Api

SECRETS = ["JBSWY3DPEHPK3PXP", "KRSXG5CTMVRXEZLU", "ONSWG4TFOQ"]


def _add(api: Api, issuer: str, secret: str) -> str:
    resp = api.post("/api/accounts", {"uri": f"otpauth://totp/{issuer}:me?secret={secret}&issuer={issuer}"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["added"][0]["id"]


def _codes(api: Api) -> dict:
    return api.get("/api/codes").get_json()


def test_groups_create_rename_delete_and_assign(unlocked: Api) -> None:
    gh, bank, other = (_add(unlocked, n, s) for n, s in zip(["GitHub", "Bank", "Shop"], SECRETS, strict=True))
    resp = unlocked.post("/api/groups", {"name": "Work"})
    assert resp.status_code == 201
    work = resp.get_json()["id"]
    assert unlocked.post("/api/groups", {"name": "work"}).status_code == 409      # names are case-blind
    assert unlocked.post("/api/groups", {"name": "  "}).status_code == 400
    assert unlocked.post("/api/groups", {"name": "x" * 61}).status_code == 400
    # an empty group is kept (it is in the vault's group list, not derived from accounts)
    assert [g["name"] for g in _codes(unlocked)["groups"]] == ["Work"]
    assert unlocked.patch(f"/api/accounts/{gh}", {"group": "Work", "favorite": True}).status_code == 200
    # assigning a group that does not exist yet creates it
    assert unlocked.patch(f"/api/accounts/{bank}", {"group": "Money"}).status_code == 200
    codes = _codes(unlocked)
    by_id = {a["id"]: a for a in codes["accounts"]}
    assert (by_id[gh]["group"], by_id[gh]["favorite"]) == ("Work", True)
    assert (by_id[bank]["group"], by_id[other]["group"]) == ("Money", "")
    assert [g["name"] for g in codes["groups"]] == ["Work", "Money"]
    listed = unlocked.get("/api/groups").get_json()["groups"]
    assert [(g["name"], g["count"]) for g in listed] == [("Work", 1), ("Money", 1)]
    # rename keeps the uuid and moves the accounts
    resp = unlocked.patch(f"/api/groups/{work}", {"name": "Office"})
    assert resp.status_code == 200
    codes = _codes(unlocked)
    assert {a["id"]: a["group"] for a in codes["accounts"]}[gh] == "Office"
    assert codes["groups"][0] == {"id": work, "name": "Office"}
    assert unlocked.patch(f"/api/groups/{work}", {"name": "Money"}).status_code == 409
    # delete keeps the accounts, ungrouped
    assert unlocked.delete(f"/api/groups/{work}").status_code == 200
    codes = _codes(unlocked)
    assert len(codes["accounts"]) == 3 and {a["id"]: a["group"] for a in codes["accounts"]}[gh] == ""
    assert [g["name"] for g in codes["groups"]] == ["Money"]
    assert unlocked.delete(f"/api/groups/{work}").status_code == 404
    assert unlocked.patch("/api/groups/nope", {"name": "x"}).status_code == 404


def test_favourite_and_icon_are_checked(unlocked: Api) -> None:
    acc = _add(unlocked, "GitHub", SECRETS[0])
    assert unlocked.patch(f"/api/accounts/{acc}", {"favorite": "yes"}).status_code == 400
    assert unlocked.patch(f"/api/accounts/{acc}", {"icon": "../../etc"}).status_code == 400
    assert unlocked.patch(f"/api/accounts/{acc}", {"icon": "<svg>"}).status_code == 400
    assert unlocked.patch(f"/api/accounts/{acc}", {"group": 5}).status_code == 400
    assert unlocked.patch(f"/api/accounts/{acc}", {"icon": "gitlab"}).get_json()["icon"] == "gitlab"
    assert unlocked.patch(f"/api/accounts/{acc}", {"icon": "letter"}).get_json()["icon"] == "letter"
    assert unlocked.patch(f"/api/accounts/{acc}", {"icon": None}).get_json()["icon"] is None


def test_groups_and_favourites_are_aegis_fields() -> None:
    """Known answer: what the vault stores is Aegis content version 3 (groups by uuid, "favorite")."""
    acc = Account(secret=b"12345678901234567890", issuer="Deno", name="me", group="Work", favorite=True,
                  id="3ae6f1ad2e654ed2a9531ec0dff2386d")
    kept = [{"uuid": "00000000-0000-4000-8000-000000000001", "name": "Work"},
            {"uuid": "00000000-0000-4000-8000-000000000002", "name": "Empty"}]
    db = entries.db_from_accounts([acc], kept)
    assert db["groups"] == kept
    assert db["entries"][0]["groups"] == ["00000000-0000-4000-8000-000000000001"]
    assert db["entries"][0]["favorite"] is True
    back = entries.accounts_from_db(json.loads(json.dumps(db)))[0]
    assert (back.group, back.favorite) == ("Work", True)
    # without a kept list, the group's uuid comes from its name (the same accounts, the same db)
    assert entries.db_from_accounts([acc])["groups"] == [{"uuid": entries.group_uuid("Work"), "name": "Work"}]


def test_list_page_embeds_the_codes_shape_without_defaults(unlocked: Api) -> None:
    _add(unlocked, "GitHub", SECRETS[0])
    html = unlocked.get("/").get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/json" id="codes-data">(.*?)</script>', html, re.S)[1])
    [row] = data["accounts"]
    assert row["issuer"] == "GitHub" and re.fullmatch(r"\d{6}", row["code"])
    assert "group" not in row and "favorite" not in row and "note" not in row   # defaults left out
    assert data["groups"] == [] and data["server_time"] > 0
    # no rows in the HTML: the page script draws them from the data
    assert 'class="acct' not in html


def test_html_per_account_stays_small(unlocked: Api) -> None:
    """1000 accounts: the page grows by well under 200 bytes an account once compressed."""
    _add(unlocked, "Seed", SECRETS[0])
    empty = len(gzip.compress(unlocked.get("/").get_data()))
    # 999 more through the import of a text file of URIs (one request, as a person would)
    text = "\n".join(f"otpauth://totp/Shop{i}:user{i}?secret={otp.encode_secret(i.to_bytes(4, 'big') * 5)}"
                     f"&issuer=Shop{i}" for i in range(999)).encode()
    resp = unlocked.post("/api/import", data={"file": (BytesIO(text), "uris.txt"), "confirm": "true"},
                         content_type="multipart/form-data")
    assert resp.status_code in (200, 201), resp.get_json()
    assert len(_codes(unlocked)["accounts"]) == 1000
    full = len(gzip.compress(unlocked.get("/").get_data()))
    assert (full - empty) / 999 < 200, (full - empty) / 999


def test_static_files_are_versioned_and_cached_for_good(api: Api) -> None:
    html = api.get("/").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert urls and all(re.search(r"\?v=[0-9a-f]{12}$", u) for u in urls), urls
    resp = api.client.get(urls[0].replace("&amp;", "&"))
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    stale = api.client.get(urls[0].split("?")[0] + "?v=000000000000")
    assert stale.headers["Cache-Control"] == "no-cache"


def test_responses_are_compressed(api: Api) -> None:
    for path in ("/", "/static/app.css", "/static/js/list.js"):
        resp = api.client.get(path, headers={"Accept-Encoding": "gzip"})
        assert resp.headers.get("Content-Encoding") == "gzip", path
        assert "Accept-Encoding" in resp.headers.get("Vary", "")
        assert gzip.decompress(resp.get_data())
    resp = api.client.get("/static/app.css", headers={"Accept-Encoding": "br, gzip"})
    assert resp.headers.get("Content-Encoding") == "br"


def test_recent_activity_is_in_words_and_adding_is_recorded(unlocked: Api) -> None:
    _add(unlocked, "GitHub", SECRETS[0])
    unlocked.post("/api/lock")
    assert unlocked.post("/api/unlock", {"passphrase": "not the passphrase"}).status_code == 401
    assert unlocked.post("/api/unlock", {"passphrase": PASSPHRASE}).status_code == 200
    html = unlocked.get("/devices").get_data(as_text=True)
    events = html.split('id="events"', 1)[1].split("</ul>", 1)[0]
    assert "Accounts added" in events and "Failed unlock" in events and "(wrong passphrase)" in events
    assert "(with the passphrase)" in events
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", re.sub(r"<[^>]+>", " ", events)), events   # no raw codes
    ja = unlocked.get("/devices", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "wrong passphrase" not in ja


def test_every_recorded_kind_of_event_has_words() -> None:
    from tests.paths import REPO
    source = "\n".join(p.read_text() for p in (REPO / "authvault").rglob("*.py"))
    kinds = set(re.findall(r'audit(?:\.record)?\((?:[\w.()]+), "([a-z_]+)"', source)) | set(re.findall(r'_audit\("([a-z_]+)"', source))
    assert {"unlock", "account_added", "backup_enabled", "export"} <= kinds, "the scan is broken"
    page = (REPO / "templates/devices/devices.html").read_text()
    labels = page.split("{% set labels = {", 1)[1].split("} %}", 1)[0]
    assert sorted(k for k in kinds if f'"{k}":' not in labels) == []


def test_connect_page_without_a_name_does_not_claim_one(api: Api) -> None:
    html = api.get("/connect").get_data(as_text=True)
    assert "This server has no name yet" in html
    assert "That is why AuthVault has a name" not in html and "give the server a name" in html
