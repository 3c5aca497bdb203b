"""Unlock state under gunicorn with two worker processes: every worker sees it, and locking ends it everywhere.

The unlocked master key lives server-side in SQLite, wrapped by a token only the session cookie holds,
so it must not matter which worker process answers a request. The access log records the
PID of the worker that served each request, so the test can prove both workers took part.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser.gunicorn_server import PASSPHRASE, SETUP_TOKEN, GunicornServer

PARALLEL = 40
SECRETS = {"GitHub": "JBSWY3DPEHPK3PXP", "Google": "KRSXG5CTMVRXEZLU"}


def totp(secret_b32: str, at: float, period: int = 30) -> str:
    """RFC 6238, SHA1, 6 digits (independent of the app's otp module)."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at // period)), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return str((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**6).zfill(6)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    """gunicorn as shipped (two workers, four threads each), worker PIDs in the access log."""
    base = tmp_path_factory.mktemp("multiworker")
    with GunicornServer.start(base / "data", workers=2, threads=4, access_log=True) as srv:
        assert len(srv.worker_pids()) == 2
        yield srv


def browser_cookies(session: requests.Session) -> dict[str, str]:
    """The cookies a browser would hold (device and session), to copy onto fresh connections."""
    return {c.name: c.value for c in session.cookies}


def fresh_get(url: str, cookies: dict[str, str], headers: dict[str, str] | None = None) -> requests.Response:
    """One GET on a connection of its own (no keep-alive pooling between requests)."""
    with requests.Session() as s:
        s.headers["Connection"] = "close"
        return s.get(url, cookies=cookies, headers=headers or {}, timeout=30)


def in_parallel(fn: Any, count: int = PARALLEL) -> list[Any]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _i: fn(), range(count)))


def pids_serving(server: GunicornServer, since: dict[int, int]) -> set[int]:
    """Workers that served a request since the `since` snapshot of served_by."""
    now = server.served_by()
    return {pid for pid, n in now.items() if n > since.get(pid, 0)}


def test_two_workers_share_unlock_and_lock(server: GunicornServer) -> None:
    browser = requests.Session()
    csrf = browser.get(server.url + "/api/session").json()["csrf_token"]
    resp = browser.post(server.url + "/api/setup", headers={"X-CSRFToken": csrf},
                        json={"setup_token": SETUP_TOKEN, "device_name": "iPhone", "passphrase": PASSPHRASE})
    assert resp.status_code == 201, resp.text
    csrf = resp.json()["csrf_token"]
    for issuer, secret in SECRETS.items():
        r = browser.post(server.url + "/api/accounts", headers={"X-CSRFToken": csrf},
                         json={"uri": f"otpauth://totp/{issuer}:alice?secret={secret}&issuer={issuer}"})
        assert r.status_code == 201, r.text
    # Lock and unlock again, so the unlock under test is a plain passphrase unlock.
    csrf = browser.post(server.url + "/api/lock", headers={"X-CSRFToken": csrf}).json()["csrf_token"]
    r = browser.post(server.url + "/api/unlock", headers={"X-CSRFToken": csrf}, json={"passphrase": PASSPHRASE})
    assert r.status_code == 200, r.text
    csrf = r.json()["csrf_token"]
    cookies = browser_cookies(browser)

    # 40 requests at once, each on its own connection; retried (a few times at most) until both
    # workers have served some, since the kernel decides which worker accepts a connection.
    served: set[int] = set()
    for _attempt in range(5):
        before = server.served_by()
        t0 = time.time()
        results = in_parallel(lambda: fresh_get(server.url + "/api/codes", cookies))
        t1 = time.time()
        for r in results:
            assert r.status_code == 200, r.text
            body = r.json()
            by_issuer = {a["issuer"]: a for a in body["accounts"]}
            assert set(by_issuer) == set(SECRETS)
            for issuer, secret in SECRETS.items():
                assert by_issuer[issuer]["code"] in {totp(secret, t0), totp(secret, t1)}
                assert by_issuer[issuer]["code"] == totp(secret, body["server_time"])
        sessions = in_parallel(lambda: fresh_get(server.url + "/api/session", cookies), 10)
        assert {s.json()["state"] for s in sessions} == {"unlocked"}
        served |= pids_serving(server, before)
        if len(served) >= 2:
            break
    assert served == set(server.worker_pids()), f"requests were served by {served}, workers are {server.worker_pids()}"

    # Lock through one connection: every worker then sees the device locked.
    r = requests.post(server.url + "/api/lock", cookies=cookies, headers={"X-CSRFToken": csrf, "Connection": "close"})
    assert r.status_code == 200 and r.json()["state"] == "locked"
    served = set()
    for _attempt in range(5):
        before = server.served_by()
        results = in_parallel(lambda: fresh_get(server.url + "/api/codes", cookies))
        for r in results:
            assert r.status_code == 401, r.text
            assert r.json()["error"]["code"] == "locked"
            assert "accounts" not in r.json()
        states = in_parallel(lambda: fresh_get(server.url + "/api/session", cookies), 10)
        assert {s.json()["state"] for s in states} == {"locked"}
        served |= pids_serving(server, before)
        if len(served) >= 2:
            break
    assert served == set(server.worker_pids())
    # The page itself, from any worker, shows the unlock form and no account.
    pages = in_parallel(lambda: fresh_get(server.url + "/", cookies, {"Accept": "text/html"}), 10)
    for page in pages:
        assert page.status_code == 200
        assert 'id="unlock-form"' in page.text
        assert "GitHub" not in page.text and "Google" not in page.text


def test_pid_access_log_is_written(server: GunicornServer) -> None:
    """The fixture's premise: the access log names the serving worker."""
    fresh_get(server.url + "/api/session", {})
    assert server.served_by(), Path(str(server.access_log)).read_text() if server.access_log else "no log"
