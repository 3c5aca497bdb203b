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
