"""Costly work at once (issue 12, item 2): Argon2id imports never deadlock, gates bound concurrency.

On the code before gates.py, two Stratum (Argon2id) imports at the same moment hung their threads
forever inside OpenSSL (`ossl_crypto_thread_start`), and eight stopped a gunicorn server. These
tests run the real KDF in real threads and a real gunicorn with concurrent uploads.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from authvault import gates
from authvault.interop.importers.stratum import StratumImporter
from authvault.web.errors import status_of
from tests.browser.gunicorn_server import PASSPHRASE, SETUP_TOKEN, GunicornServer
from tests.paths import FIXTURES

STRATUM = FIXTURES / "importers" / "aegis-fixtures" / "stratum_encrypted.bin"


def run_in_threads(fn, count: int, timeout: float) -> list[object]:  # type: ignore[no-untyped-def]
    """Run `fn` in `count` daemon threads started together; the results of those that finished."""
    results: list[object] = []
    barrier = threading.Barrier(count)

    def one() -> None:
        barrier.wait()
        results.append(fn())

    threads = [threading.Thread(target=one, daemon=True) for _ in range(count)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return results


def test_stratum_argon2id_imports_in_parallel_threads_all_finish() -> None:
    data = STRATUM.read_bytes()
    results = run_in_threads(lambda: StratumImporter().parse(data, "test"), 4, timeout=60)
    assert len(results) == 4, "Argon2id imports deadlocked"
    assert all(len(r.accounts) == 7 for r in results)  # type: ignore[attr-defined]


def test_gate_admits_at_most_its_slots_across_threads(tmp_path: Path) -> None:
    gates.configure(tmp_path / "locks")
    gate = gates.Gate("test", slots=2, wait=10)
    inside = [0]
    peak = [0]
    lock = threading.Lock()

    def work() -> bool:
        with gate.hold():
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            time.sleep(0.05)
            with lock:
                inside[0] -= 1
        return True

    assert len(run_in_threads(work, 6, timeout=30)) == 6
    assert peak[0] == 2


def test_gate_says_busy_instead_of_waiting_forever(tmp_path: Path) -> None:
    gates.configure(tmp_path / "locks")
    gate = gates.Gate("busy", slots=1, wait=0.2)
    with gate.hold():
        with pytest.raises(gates.ServerBusy) as err:
            run_err = None
            try:
                # From another thread, as a second request would.
                with ThreadPoolExecutor(1) as pool:
                    pool.submit(lambda: gate.hold().__enter__()).result(5)
            except gates.ServerBusy as exc:
                run_err = exc
            raise run_err or AssertionError("the second holder got in")
    assert status_of(err.value) == 429


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    """gunicorn as shipped: two workers, four threads each."""
    with GunicornServer.start(tmp_path_factory.mktemp("gates") / "data", workers=2, threads=4) as srv:
        yield srv


def signed_in(server: GunicornServer) -> tuple[requests.Session, str]:
    browser = requests.Session()
    csrf = browser.get(server.url + "/api/session").json()["csrf_token"]
    resp = browser.post(server.url + "/api/setup", headers={"X-CSRFToken": csrf},
                        json={"setup_token": SETUP_TOKEN, "device_name": "iPhone", "passphrase": PASSPHRASE})
    assert resp.status_code == 201, resp.text
    return browser, resp.json()["csrf_token"]


@pytest.mark.slow
def test_eight_stratum_imports_at_once_all_finish_under_gunicorn(server: GunicornServer) -> None:
    browser, csrf = signed_in(server)
    cookies = {c.name: c.value for c in browser.cookies}
    data = STRATUM.read_bytes()

    def one_import(_i: int) -> int:
        with requests.Session() as s:  # a connection of its own, like eight phones
            r = s.post(server.url + "/api/import", cookies=cookies, headers={"X-CSRFToken": csrf},
                       files={"file": ("backup.authpro", data)}, data={"password": "test"}, timeout=60)
        assert r.status_code == 200, r.text
        return int(r.json()["count"])

    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(one_import, range(8)))
    assert counts == [7] * 8
    # And the server still answers right away.
    assert requests.get(server.url + "/api/session", timeout=5).status_code == 200
