"""The server side of codes away from home: the offline copy endpoint, the HOTP report, the
installable app's files (manifest, icons, service worker, shell page)."""
from __future__ import annotations

import json
import re
from typing import Any

from PIL import Image

from authvault.vault.store import read_envelope
from tests.conftest import PASSPHRASE, Api
from tests.paths import REPO

URI = "otpauth://totp/Zebrabank:carol@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Zebrabank"
HOTP = "otpauth://hotp/Hotpco:dave?secret=GEZDGNBVGY3TQOJQ&issuer=Hotpco&counter=5"


def _db(app: Any) -> Any:
    from authvault.db import connect
    return connect(app.config["AUTHVAULT"].db_path)


def test_offline_copy_is_the_stored_envelope_with_metadata_only(app: Any, unlocked: Api) -> None:
    unlocked.post("/api/accounts", {"uri": URI})
    resp = unlocked.get("/api/offline-copy")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    data = resp.get_json()
    device_id = unlocked.refresh()["device"]["id"]
    assert data["envelope"] == read_envelope(_db(app), device_id)         # exactly as stored
    assert data["device_id"] == device_id and data["enabled"] is True
    assert set(data) == {"enabled", "device_id", "server_time", "lock_minutes", "generation", "rp_id", "prf_salt",
                         "envelope"}
    text = resp.get_data(as_text=True)
    for clear in ("Zebrabank", "carol", "JBSWY3DPEHPK3PXP", PASSPHRASE):
        assert clear not in text
    # unchanged: no envelope again; changed: a new generation
    same = unlocked.get(f"/api/offline-copy?have={data['generation']}").get_json()
    assert same["unchanged"] is True and "envelope" not in same and same["generation"] == data["generation"]
    unlocked.post("/api/accounts", {"uri": HOTP})
    changed = unlocked.get(f"/api/offline-copy?have={data['generation']}").get_json()
    assert changed["generation"] != data["generation"] and changed["envelope"] != data["envelope"]


def test_offline_copy_needs_an_unlocked_device(app: Any, unlocked: Api) -> None:
    stranger = Api(app.test_client())
    assert stranger.get("/api/offline-copy").status_code == 401
    unlocked.post("/api/lock")
    resp = unlocked.get("/api/offline-copy")
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "locked"


def test_turning_the_offline_copy_off_and_on(unlocked: Api) -> None:
    assert unlocked.patch("/api/offline-copy", {"enabled": "no"}).status_code == 400
    off = unlocked.patch("/api/offline-copy", {"enabled": False})
    assert off.status_code == 200 and off.get_json() == {"enabled": False}
    assert unlocked.get("/api/offline-copy").get_json()["enabled"] is False
    assert "envelope" not in unlocked.get("/api/offline-copy").get_json()
    on = unlocked.patch("/api/offline-copy", {"enabled": True}).get_json()
    assert on["enabled"] is True and "envelope" in on


def _counter(api: Api, issuer: str) -> int:
    return next(a["counter"] for a in api.get("/api/codes").get_json()["accounts"] if a["issuer"] == issuer)


def test_hotp_used_offline_the_server_takes_the_larger_counter(unlocked: Api) -> None:
    unlocked.post("/api/accounts", {"uri": HOTP})
    unlocked.post("/api/accounts", {"uri": URI})
    ids = {a["issuer"]: a["id"] for a in unlocked.get("/api/codes").get_json()["accounts"]}
    assert _counter(unlocked, "Hotpco") == 5
    res = unlocked.post("/api/offline-copy/hotp", {"used": {ids["Hotpco"]: 8, ids["Zebrabank"]: 3, "gone": 1}})
    assert res.status_code == 200
    assert res.get_json() == {"counters": {ids["Hotpco"]: 8}, "ignored": [ids["Zebrabank"], "gone"]}
    assert _counter(unlocked, "Hotpco") == 8
    # a report older than the server's counter never moves it back
    assert unlocked.post("/api/offline-copy/hotp", {"used": {ids["Hotpco"]: 6}}).get_json()["counters"] == {ids["Hotpco"]: 8}
    assert _counter(unlocked, "Hotpco") == 8
    nxt = unlocked.post(f"/api/accounts/{ids['Hotpco']}/next").get_json()
    assert nxt["counter"] == 9


def test_hotp_report_refuses_bad_input(app: Any, unlocked: Api) -> None:
    for bad in ({}, {"used": []}, {"used": {"a": "1"}}, {"used": {"a": True}}, {"used": {"a": -1}},
                {"used": {"a": 2**63}}, {"used": {str(i): 1 for i in range(10_001)}}):
        resp = unlocked.post("/api/offline-copy/hotp", bad)
        assert resp.status_code == 400, bad
        assert resp.get_json()["error"]["code"] in ("invalid_used", "invalid_counter")
    assert Api(app.test_client()).post("/api/offline-copy/hotp", {"used": {}}).status_code == 401


def test_manifest_and_icons_meet_the_install_criteria(unlocked: Api) -> None:
    resp = unlocked.client.get("/manifest.webmanifest")
    assert resp.status_code == 200 and resp.mimetype == "application/manifest+json"
    data = json.loads(resp.get_data())
    assert data["name"] == "AuthVault" and data["start_url"] == "/" and data["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", data["theme_color"]) and data["background_color"]
    seen = set()
    for icon in data["icons"]:
        img = unlocked.client.get(icon["src"])
        assert img.status_code == 200 and img.mimetype == "image/png"
        from io import BytesIO
        with Image.open(BytesIO(img.get_data())) as im:
            assert f"{im.width}x{im.height}" == icon["sizes"]
            if icon["purpose"] == "maskable":
                assert im.mode == "RGB" and im.getpixel((0, 0)) == im.getpixel((im.width // 2, 2))  # full bleed
        seen.add((icon["sizes"], icon["purpose"]))
    assert {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")} <= seen
    page = unlocked.client.get("/").get_data(as_text=True)
    for needle in ('rel="manifest"', 'rel="apple-touch-icon"', 'name="theme-color"', 'rel="icon"',
                   "js/connection.js?v="):
        assert needle in page, needle


def test_service_worker_lists_the_shell_and_changes_with_it(app: Any, unlocked: Api) -> None:
    resp = unlocked.client.get("/sw.js")
    assert resp.status_code == 200 and resp.mimetype == "text/javascript"
    assert resp.headers["Service-Worker-Allowed"] == "/"
    text = resp.get_data(as_text=True)
    assert "__VERSION__" not in text and "__SHELL_FILES__" not in text
    files = json.loads(re.search(r"const SHELL_FILES = (\[.*?\]);", text).group(1))
    for url in files:
        assert unlocked.client.get(url).status_code == 200, url
    assert any("noble-hashes/scrypt.js" in f for f in files) and any("js/offline.js?v=" in f for f in files)
    # pages, the API and the list are never in it
    assert not any(f.startswith("/api") or f == "/" for f in files)
    version = re.search(r'const VERSION = "(\w+)"', text).group(1)
    css = REPO / "static" / "offline.css"
    before = css.read_bytes()
    try:
        css.write_bytes(before + b"\n/* changed */\n")
        again = unlocked.client.get("/sw.js").get_data(as_text=True)
        assert re.search(r'const VERSION = "(\w+)"', again).group(1) != version
    finally:
        css.write_bytes(before)


def test_shell_page_carries_no_data(unlocked: Api) -> None:
    unlocked.post("/api/accounts", {"uri": URI})
    resp = unlocked.client.get("/offline")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    for needle in ("Zebrabank", "carol", "csrf-token", "iPhone", "offline-device", unlocked.csrf):
        assert needle not in html, needle
    assert "js/offline.js" in html and "i18n-offline" in html
