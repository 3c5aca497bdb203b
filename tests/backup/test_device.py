"""One device's backup (authvault/backup/device.py): what an account edit costs with backup on, and
that the push after it carries exactly what the edit wrote.

An edit decrypts the vault once and writes it once; the push after it reuses what the edit
stored (its accounts and its decrypted vault), and where the backup stands (generation, ETag,
count) goes to the device's settings row instead of a second vault write.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from authvault.backup import device as dbk
from authvault.backup import objects
from authvault.vault import envelope
from authvault.vault import store as accts
from tests.conftest import Api
from tests.web.test_backup_api import add, folder_target, read_object  # noqa: F401 - folder_target is a fixture


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """How often the vault is decrypted (envelope.open_db) and written (UPDATE vaults)."""
    counts = {"decrypts": 0, "writes": 0}
    real_open, real_write = envelope.open_db, accts.write_envelope

    def open_db(*args: Any, **kwargs: Any) -> Any:
        counts["decrypts"] += 1
        return real_open(*args, **kwargs)

    def write_envelope(*args: Any, **kwargs: Any) -> Any:
        counts["writes"] += 1
        return real_write(*args, **kwargs)

    monkeypatch.setattr(envelope, "open_db", open_db)
    monkeypatch.setattr(accts, "write_envelope", write_envelope)
    yield counts


def _on(unlocked: Api, target: dict[str, Any], n: int = 3) -> list[dict[str, Any]]:
    accounts = [add(unlocked, f"Service {i}") for i in range(n)]
    resp = unlocked.post("/api/backup/enable", {"target": target})
    assert resp.status_code in (200, 201), resp.get_json()
    return accounts


def test_an_edit_with_backup_on_decrypts_once_and_writes_once(
        unlocked: Api, folder_target: dict[str, Any], counted: dict[str, int]) -> None:  # noqa: F811
    accounts = _on(unlocked, folder_target)
    generation = read_object(folder_target)["generation"]
    counted.update(decrypts=0, writes=0)
    resp = unlocked.patch(f"/api/accounts/{accounts[1]['id']}", {"issuer": "Renamed"})
    assert resp.status_code == 200
    assert counted == {"decrypts": 1, "writes": 1}
    assert read_object(folder_target)["generation"] == generation + 1  # and it was backed up


def test_the_push_after_an_edit_carries_the_edit_and_later_pushes_continue_from_it(
        unlocked: Api, folder_target: dict[str, Any]) -> None:  # noqa: F811
    accounts = _on(unlocked, folder_target)
    for i in range(3):
        assert unlocked.patch(f"/api/accounts/{accounts[0]['id']}", {"issuer": f"Edit {i}"}).status_code == 200
    first = read_object(folder_target)
    assert unlocked.post("/api/backup/now").status_code == 200
    after = read_object(folder_target)
    assert after["generation"] == first["generation"] + 1  # no rollback seen: the position was kept
    assert unlocked.get("/api/backup").get_json()["state"] == "on"
    # what the backup holds is the edited list (opened with the recovery key it was made with)
    status = unlocked.get("/api/backup").get_json()
    assert status["count"] == 3


def test_a_push_reads_the_vault_again_when_it_changed_after_the_edit(
        unlocked: Api, folder_target: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    """The accounts of an edit are only reused while the vault still is what that edit wrote: a
    push that ran after a later change must back up the later list, never the older one."""
    from authvault import db
    _on(unlocked, folder_target)
    app = unlocked.client.application
    conn = db.connect(app.config["AUTHVAULT"].db_path)
    try:
        device_id = conn.execute("SELECT id FROM devices").fetchone()[0]
        key = _master_key(unlocked)
        first = accts.change(conn, device_id, key, lambda a: a[:2])   # the edit
        accts.change(conn, device_id, key, lambda a: a[:1])           # a later change, another request
        assert not accts.is_current(conn, device_id, first)
        service = dbk.service_for(app.config["AUTHVAULT"].data_dir)
        status = dbk.push(conn, device_id, key, service, written=first)
        assert status.state == "on" and status.count == 1
    finally:
        conn.close()


def test_a_data_folder_without_the_position_row_pushes_from_the_vaults_position(
        unlocked: Api, folder_target: dict[str, Any]) -> None:  # noqa: F811
    """Data folders made before the position row existed keep the backup's position in the vault
    only: the first push continues from it (no rollback reported) and starts the row."""
    from authvault import db
    _on(unlocked, folder_target)
    conn = db.connect(unlocked.client.application.config["AUTHVAULT"].db_path)
    try:
        device_id = conn.execute("SELECT id FROM devices").fetchone()[0]
        conn.execute("DELETE FROM device_settings WHERE device_id = ? AND key = ?", (device_id, dbk.POSITION_KEY))
    finally:
        conn.close()
    generation = read_object(folder_target)["generation"]
    assert unlocked.post("/api/backup/now").status_code == 200
    assert read_object(folder_target)["generation"] == generation + 1
    conn = db.connect(unlocked.client.application.config["AUTHVAULT"].db_path)
    try:
        row = conn.execute("SELECT value FROM device_settings WHERE device_id = ? AND key = ?",
                           (device_id, dbk.POSITION_KEY)).fetchone()
        assert json.loads(row[0])["generation"] == generation + 1
    finally:
        conn.close()
    assert objects.OBJECT_NAME == "authvault-backup.json"


def _master_key(api: Api) -> bytes:
    """The unlocked device's master key, through the session the test client holds."""
    from authvault import db
    from authvault.devices import sessions
    from authvault.web import context
    app = api.client.application
    with api.client.session_transaction() as sess:
        token = sess[context.SESSION_TOKEN]
    conn = db.connect(app.config["AUTHVAULT"].db_path)
    try:
        device_id = conn.execute("SELECT id FROM devices").fetchone()[0]
        key = sessions.session_master_key(conn, token, device_id, 300, touch=False)
    finally:
        conn.close()
    assert key is not None
    return key
