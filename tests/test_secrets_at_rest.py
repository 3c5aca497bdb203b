"""No secret, key or code is ever written in the clear: not in the data folder, not in the logs."""
from __future__ import annotations

import base64
import io
import logging
import os
from pathlib import Path

import pytest
import qrcode

from tests.conftest import PASSPHRASE, Api

SECRETS = [bytes(range(i, i + 20)) for i in (11, 47, 93)]


def b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=")


def forms(raw: bytes) -> list[bytes]:
    """Every way a secret could be written: raw, base32 (upper/lower, padded), hex, base64."""
    text = b32(raw)
    return [raw, text.encode(), text.lower().encode(), base64.b32encode(raw), raw.hex().encode(),
            base64.b64encode(raw), base64.urlsafe_b64encode(raw).rstrip(b"=")]


def test_no_secret_or_code_in_data_folder_or_logs(unlocked: Api, app, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    # one account each way a person adds them
    unlocked.post("/api/accounts", {"uri": f"otpauth://totp/A:a?secret={b32(SECRETS[0])}&issuer=A"})
    unlocked.post("/api/accounts", {"issuer": "B", "name": "b", "secret": b32(SECRETS[1]).lower()})
    png = io.BytesIO()
    qrcode.make(f"otpauth://totp/C:c?secret={b32(SECRETS[2])}").save(png, format="PNG")
    resp = unlocked.post("/api/accounts/scan", data={"file": (io.BytesIO(png.getvalue()), "c.png")},
                         content_type="multipart/form-data")
    assert resp.status_code == 201
    # bad input too: errors must not echo what they were given
    unlocked.post("/api/accounts", {"issuer": "D", "secret": b32(SECRETS[0]) + "!!"})
    unlocked.post("/api/lock")
    unlocked.post("/api/unlock", {"passphrase": "wrong " + PASSPHRASE})
    unlocked.post("/api/unlock", {"passphrase": PASSPHRASE})
    codes = [a["code"] for a in unlocked.get("/api/codes").get_json()["accounts"]]
    codes += [a["next_code"] for a in unlocked.get("/api/codes").get_json()["accounts"]]
    assert len(codes) == 6

    needles = [f for raw in SECRETS for f in forms(raw)] + [c.encode() for c in codes] + [PASSPHRASE.encode()]
    data_dir = Path(app.config["AUTHVAULT"].data_dir)
    files = [Path(root) / name for root, _, names in os.walk(data_dir) for name in names]
    assert any(f.name.endswith("-wal") or f.suffix == ".sqlite3" for f in files)
    for path in files:
        content = path.read_bytes()
        for needle in needles:
            assert needle not in content, f"{needle[:4]!r}… found in {path.name}"
    log_text = "\n".join(r.getMessage() for r in caplog.records).encode()
    for needle in needles:
        assert needle not in log_text


def test_master_key_is_not_in_the_database(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    """The session row holds only a wrapped key; the token that unwraps it is only in the cookie."""
    from authvault.db import connect
    conn = connect(app.config["AUTHVAULT"].db_path)
    rows = conn.execute("SELECT * FROM unlock_sessions").fetchall()
    assert len(rows) == 1
    row = dict(rows[0])
    assert set(row) == {"id", "device_id", "wrapped_key", "created_at", "last_seen_at"}
    assert len(row["wrapped_key"]) > 32  # nonce + ciphertext + tag, not a bare key
    conn.close()


def test_wrong_passphrase_is_told_apart_from_a_damaged_vault(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    import json

    from authvault.db import connect
    unlocked.post("/api/accounts", {"uri": f"otpauth://totp/A:a?secret={b32(SECRETS[0])}"})
    unlocked.post("/api/lock")
    conn = connect(app.config["AUTHVAULT"].db_path)
    env = json.loads(conn.execute("SELECT envelope FROM vaults").fetchone()[0])
    db = bytearray(base64.b64decode(env["db"]))
    db[5] ^= 1
    env["db"] = base64.b64encode(bytes(db)).decode()
    conn.execute("UPDATE vaults SET envelope = ?", (json.dumps(env),))
    conn.close()
    wrong = unlocked.post("/api/unlock", {"passphrase": "not it at all"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "wrong_passphrase"
    damaged = unlocked.post("/api/unlock", {"passphrase": PASSPHRASE})
    assert damaged.status_code == 422 and damaged.get_json()["error"]["code"] == "vault_damaged"


def _session_devices(app) -> list[str]:  # type: ignore[no-untyped-def]
    from authvault.db import connect
    conn = connect(app.config["AUTHVAULT"].db_path)
    try:
        return [r[0] for r in conn.execute("SELECT device_id FROM unlock_sessions")]
    finally:
        conn.close()


def _age_sessions(app, seconds: float) -> None:  # type: ignore[no-untyped-def]
    from authvault.db import connect
    conn = connect(app.config["AUTHVAULT"].db_path)
    conn.execute("UPDATE unlock_sessions SET last_seen_at = last_seen_at - ?", (seconds,))
    conn.close()


def test_an_idle_session_leaves_no_wrapped_key_behind(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    """The idle timeout deletes the wrapped master key, even if that browser never comes back
    (its cookie and a copy of the database would otherwise still open the vault)."""
    phone = unlocked.refresh()["device"]["id"]
    link = unlocked.post("/api/devices/enroll").get_json()
    _age_sessions(app, 301)  # the phone was put away, unlocked, more than its 5 lock minutes ago
    tablet = Api(app.test_client())  # any unlock anywhere afterwards
    assert tablet.post("/api/enroll", {"token": link["token"], "device_name": "iPad",
                                       "passphrase": PASSPHRASE}).status_code == 201
    assert phone not in _session_devices(app)


def test_idle_cleanup_keeps_each_devices_own_lock_time(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    assert unlocked.patch("/api/settings", {"lock_minutes": 60}).status_code == 200
    phone = unlocked.refresh()["device"]["id"]
    link = unlocked.post("/api/devices/enroll").get_json()
    _age_sessions(app, 301)
    tablet = Api(app.test_client())
    assert tablet.post("/api/enroll", {"token": link["token"], "device_name": "iPad",
                                       "passphrase": PASSPHRASE}).status_code == 201
    assert phone in _session_devices(app)
    assert unlocked.get("/api/codes").status_code == 200


def test_a_large_upload_stays_in_memory(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    """Werkzeug spools uploads over 500 KiB to a temporary file; a QR photo holds a secret, so ours
    stay in memory (the 20 MiB upload limit caps them)."""
    from flask import Request
    from werkzeug.test import EnvironBuilder

    def stream_of(request_class: type) -> object:
        env = EnvironBuilder(method="POST", data={"file": (io.BytesIO(b"\0" * 1_000_000), "photo.png")}).get_environ()
        return request_class(env).files["file"].stream

    assert not isinstance(stream_of(Request), io.BytesIO)  # what Flask would do: a file on disk
    assert isinstance(stream_of(app.request_class), io.BytesIO)

    # and a real 1.3 MB photo of a QR code goes through the app that way
    img = qrcode.make(f"otpauth://totp/Big:photo?secret={b32(SECRETS[0])}").get_image().convert("RGB")
    img = img.resize((2400, 2400))
    png = io.BytesIO()
    img.save(png, format="PNG", compress_level=0)
    assert png.tell() > 1_000_000
    resp = unlocked.post("/api/accounts/scan", data={"file": (io.BytesIO(png.getvalue()), "big.png")},
                         content_type="multipart/form-data")
    assert resp.status_code in (200, 201), resp.get_json()
