"""Crash safety: kill -9 the server at random moments during a burst of changes and backups.

Afterwards the vault opens, every change the API acknowledged is there, and the backup account
holds a complete backup of one state the vault went through, never a partial one.
"""
from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

import pytest
import requests

from authvault.backup import BackupService, load
from tests.browser.gunicorn_server import PASSPHRASE, SETUP_TOKEN, GunicornServer

pytestmark = pytest.mark.slow

ROUNDS = 24


class Client:
    """A browser-like session against whichever server is running now."""

    def __init__(self) -> None:
        self.http = requests.Session()
        self.url = ""

    def csrf(self) -> str:
        return self.http.get(self.url + "/api/session", timeout=10).json()["csrf_token"]

    def post(self, path: str, body: dict, timeout: float = 10) -> requests.Response:
        return self.http.post(self.url + path, json=body, headers={"X-CSRFToken": self.csrf()}, timeout=timeout)


def secret_for(i: int) -> str:
    import base64
    import hashlib
    return base64.b32encode(hashlib.sha1(f"crash-{i}".encode()).digest()).decode().rstrip("=")


def test_kill_9_during_changes_and_backups_loses_nothing_acknowledged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    nas = tmp_path / "nas"
    nas.mkdir()
    target = {"kind": "folder", "path": str(nas)}
    client = Client()
    server = GunicornServer.start(data, workers=2)
    client.url = server.url
    assert client.post("/api/setup", {"setup_token": SETUP_TOKEN, "device_name": "iPhone",
                                      "passphrase": PASSPHRASE}).status_code == 201
    recovery_key = client.post("/api/backup/enable", {"target": target}).json()["recovery_key"]

    rng = random.Random(20261122)
    attempted: list[str] = []  # issuers in the order they were sent
    acknowledged: set[str] = set()
    n = 0
    try:
        for round_ in range(ROUNDS):
            stop = threading.Event()

            def burst() -> None:
                nonlocal n
                while not stop.is_set():
                    issuer = f"Acct{n:04d}"
                    n += 1
                    attempted.append(issuer)
                    try:
                        resp = client.post("/api/accounts", {"issuer": issuer, "name": "me",
                                                             "secret": secret_for(n)}, timeout=5)
                    except requests.RequestException:
                        return  # the server died mid-request: not acknowledged
                    if resp.status_code == 201:
                        acknowledged.add(issuer)
                    else:
                        return

            worker = threading.Thread(target=burst)
            worker.start()
            time.sleep(rng.uniform(0.05, 0.6))
            os.killpg(server.pid, signal.SIGKILL)  # the master and its workers, no goodbye
            server.proc.wait(10)
            stop.set()
            worker.join(15)
            assert not worker.is_alive()

            server = GunicornServer.start(data, workers=2)
            client.url = server.url
            # the unlock session survived (it lives in SQLite); if not, the passphrase opens the vault
            if client.http.get(server.url + "/api/session", timeout=10).json()["state"] != "unlocked":
                assert client.post("/api/unlock", {"passphrase": PASSPHRASE}).status_code == 200
            codes = client.http.get(server.url + "/api/codes", timeout=10).json()["accounts"]
            have = {a["issuer"] for a in codes}
            missing = acknowledged - have
            assert not missing, f"round {round_}: acknowledged but lost: {sorted(missing)[:5]}"
            assert have <= set(attempted)
            assert all(a["code"] for a in codes)

            # The backup is complete: it parses, decrypts with the recovery key, and holds exactly
            # the accounts of one state the vault went through (a prefix of the vault's list, in order).
            holder, restored = BackupService(tmp_path / "verify-locks").restore(load(target), recovery_key)
            names = [a.issuer for a in restored]
            in_vault = [a["issuer"] for a in codes]  # accounts are only appended: this is the history
            assert names == in_vault[:len(names)], f"round {round_}: backup is not a state the vault had"
            assert holder.count == len(names)
        # After the crashes, one "Back up now" brings the backup up to date (no stuck claim or lock).
        status = client.post("/api/backup/now", {}, timeout=30).json()
        assert status["state"] == "on", status
        _, restored = BackupService(tmp_path / "verify-locks").restore(load(target), recovery_key)
        codes = client.http.get(server.url + "/api/codes", timeout=10).json()["accounts"]
        assert [a.issuer for a in restored] == [a["issuer"] for a in codes]
    finally:
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        server.proc.wait(10)
    assert len(acknowledged) > ROUNDS  # the bursts really ran
