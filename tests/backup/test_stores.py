"""The backup account kinds against real servers on 127.0.0.1, started and stopped here.

Kinds: `folder` on a temp folder; `webdav` against wsgidav (in process, content-hash ETags) and
Debian's Apache mod_dav (own config; skipped if apache2 is missing); `s3` against moto's server,
an S3 *emulator* (not AWS) with signature checking switched on.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest

from authvault.backup import (
    KINDS,
    BackupError,
    BackupPreconditionFailed,
    BackupTargetInvalid,
    BackupUnauthorized,
    BackupUnreachable,
    load,
)
from authvault.backup.base import check_name
from tests.backup_servers import moto_available, start_apache, start_moto, start_wsgidav
from tests.plugins.backup_servers import require_server

NAME = "authvault-backup.json"


def test_registered_kinds_are_sorted_and_complete() -> None:
    assert list(KINDS) == sorted(KINDS) == ["folder", "s3", "webdav"]


@pytest.mark.parametrize(
    "target, field",
    [
        (None, None),
        ({}, None),
        ({"kind": "ftp"}, None),
        ({"kind": "folder"}, "path"),
        ({"kind": "folder", "path": "relative/dir"}, None),
        ({"kind": "webdav", "username": "u", "password": "p"}, "url"),
        ({"kind": "webdav", "url": "ftp://host/x", "username": "u", "password": "p"}, None),
        ({"kind": "webdav", "url": "https://u:p@host/x/", "username": "u", "password": "p"}, None),
        ({"kind": "s3", "bucket": "bkt", "access_key_id": "a", "secret_access_key": "s"}, None),
        (
            {
                "kind": "s3",
                "endpoint_url": "http://x",
                "bucket": "b",
                "access_key_id": "a",
                "secret_access_key": "s",
            },
            None,
        ),
        (
            {"kind": "s3", "endpoint_url": "http://x", "bucket": "bkt", "secret_access_key": "s"},
            "access_key_id",
        ),
    ],
)
def test_rejects_invalid_targets_clearly(target: Any, field: str | None) -> None:
    if target == {"kind": "s3", "bucket": "bkt", "access_key_id": "a", "secret_access_key": "s"}:
        if not moto_available():
            pytest.skip("boto3 is not installed")
        assert load(target).kind == "s3"  # no endpoint means AWS: valid
        return
    with pytest.raises(BackupTargetInvalid) as exc:
        load(target)
    assert exc.value.code == "backup_target_invalid"
    if field:
        assert field in exc.value.text()
    assert "p@" not in exc.value.text()


@pytest.mark.parametrize("name", ["../x", "/abs", "a/../b", "", "a//b", "sp ace"])
def test_rejects_unsafe_object_names(name: str) -> None:
    with pytest.raises(ValueError):
        check_name(name)


def test_read_write_list_delete_with_etags(new_target: Callable[..., dict[str, Any]]) -> None:
    store = load(new_target())
    store.test_connection()
    assert store.read(NAME) is None
    etag1 = store.write(NAME, b"one", create_only=True)
    assert store.read(NAME) == (b"one", etag1)
    with pytest.raises(BackupPreconditionFailed) as exc:
        store.write(NAME, b"two", create_only=True)
    assert exc.value.code == "backup_precondition_failed"
    etag2 = store.write(NAME, b"two", if_match=etag1)
    assert etag2 != etag1 and store.read(NAME) == (b"two", etag2)
    # A stale ETag of the same length is refused (wsgidav's own ETag would let it through).
    with pytest.raises(BackupPreconditionFailed):
        store.write(NAME, b"owt", if_match=etag1)
    assert store.read(NAME)[0] == b"two"
    # If-Match on an absent object fails and leaves nothing behind (wsgidav would create it).
    with pytest.raises(BackupPreconditionFailed):
        store.write("absent.json", b"x", if_match=etag2)
    assert store.read("absent.json") is None
    store.write("versions/0001.json", b"v1")
    store.write("versions/0002.json", b"v2")
    assert store.list("versions") == ["versions/0001.json", "versions/0002.json"]
    assert NAME in store.list("")
    assert store.list("nothing-here") == []
    with pytest.raises(BackupPreconditionFailed):
        store.delete(NAME, if_match=etag1)
    store.delete(NAME, if_match=etag2)
    assert store.read(NAME) is None
    store.delete(NAME)  # already gone: no error
    store.delete("versions/0001.json")
    assert store.list("versions") == ["versions/0002.json"]


def test_claim_is_won_once_and_keeps_its_record(new_target: Callable[..., dict[str, Any]]) -> None:
    store = load(new_target())
    assert store.read_claim("claims/1").exists is False
    assert store.claim("claims/1", b'{"who": "a"}') is True
    assert store.claim("claims/1", b'{"who": "b"}') is False
    info = store.read_claim("claims/1")
    assert info.exists and info.record == b'{"who": "a"}'
    assert store.claim("claims/2", b"{}") is True
    assert store.list_claims("claims") == ["claims/1", "claims/2"]
    store.delete_claim("claims/1")
    assert store.list_claims("claims") == ["claims/2"]
    assert store.claim("claims/1", b"{}") is True


@pytest.mark.slow
def test_claim_has_exactly_one_winner_under_concurrency(
    new_target: Callable[..., dict[str, Any]],
) -> None:
    """20 threads, each with its own connection, claim the same name behind a barrier."""
    rounds, threads = 10, 20
    target = new_target()
    stores = [load(target) for _ in range(threads)]
    for r in range(rounds):
        barrier = threading.Barrier(threads)
        results: list[Any] = [None] * threads

        def run(i: int) -> None:
            barrier.wait(10)
            try:
                results[i] = stores[i].claim(f"claims/{r + 1}", b'{"i": %d}' % i)
            except BackupError as exc:  # pragma: no cover - reported below
                results[i] = exc

        pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(60)
        assert results.count(True) == 1, (r, results)
        assert results.count(False) == threads - 1, (r, results)
        winner = results.index(True)
        assert stores[0].read_claim(f"claims/{r + 1}").record == b'{"i": %d}' % winner


def _wrong_credentials(target: dict[str, Any]) -> dict[str, Any]:
    if target["kind"] == "webdav":
        return dict(target, password="wrong-password")
    return dict(target, secret_access_key="wrong-secret")


def test_wrong_credentials_are_backup_unauthorized(
    kind: str, new_target: Callable[..., dict[str, Any]]
) -> None:
    if kind == "folder":
        pytest.skip("a folder has no credentials (permissions: see the unwritable test)")
    target = new_target()
    good = load(target)
    good.write(NAME, b"data")
    bad = load(_wrong_credentials(target))
    for call in (
        lambda: bad.read(NAME),
        lambda: bad.write(NAME, b"x"),
        lambda: bad.list(""),
        bad.test_connection,
        lambda: bad.claim("claims/1", b"{}"),
    ):
        with pytest.raises(BackupUnauthorized) as exc:
            call()
        assert exc.value.code == "backup_unauthorized"
        assert "wrong-" not in exc.value.text()
    assert good.read(NAME)[0] == b"data"


def test_unwritable_folder_cannot_be_written(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions")
    root = tmp_path / "ro"
    root.mkdir(mode=0o500)
    with pytest.raises(BackupTargetInvalid) as exc:
        load({"kind": "folder", "path": str(root)}).test_connection()
    assert exc.value.text().startswith("AuthVault cannot write there.")


def test_missing_folder_cannot_be_written_and_says_no_more(tmp_path: Path) -> None:
    # The same answer as for a file or an unwritable folder (reach.py: no telling which paths
    # exist); a configured backup still retries it, as every failed push is retried.
    store = load({"kind": "folder", "path": str(tmp_path / "unmounted-nas")})
    for call in (
        lambda: store.read(NAME),
        lambda: store.write(NAME, b"x"),
        store.test_connection,
        lambda: store.claim("claims/1", b"{}"),
    ):
        with pytest.raises(BackupTargetInvalid) as exc:
            call()
        assert exc.value.text().startswith("AuthVault cannot write there.")


@pytest.mark.parametrize("server", ["wsgidav", "apache", "s3"])
def test_stopped_server_is_backup_unreachable(server: str, tmp_path: Path) -> None:
    require_server(server)
    started: Any = {
        "wsgidav": lambda: start_wsgidav(tmp_path / "dav"),
        "apache": start_apache,
        "s3": start_moto,
    }[server]()
    try:
        store = load(started.target())
        store.write(NAME, b"x")
    finally:
        started.stop()
    for call in (
        lambda: store.read(NAME),
        lambda: store.write(NAME, b"y"),
        store.test_connection,
        lambda: store.claim(f"claims/{uuid.uuid4().hex}", b""),
    ):
        with pytest.raises(BackupUnreachable) as exc:
            call()
        assert exc.value.code == "backup_unreachable"
    if server == "apache":
        import shutil

        shutil.rmtree(started.extra["base"], ignore_errors=True)


def test_webdav_test_connection_creates_a_missing_collection(wsgidav_server: Any) -> None:
    store = load(wsgidav_server.target(sub="new-" + uuid.uuid4().hex[:6]))
    store.test_connection()
    assert store.list("") == []


def test_claim_without_its_record_still_has_an_age(
        kind: str, new_target: Callable[..., dict[str, Any]]) -> None:
    """A writer killed between creating a claim and writing its record: the claim's age comes
    from the store (folder mtime, WebDAV getlastmodified against the server's Date)."""
    if kind == "s3":
        pytest.skip("an S3 claim is its record: created in one atomic PUT")
    store = load(new_target())
    store.claim("claims/1", b"{}")
    if kind == "folder":
        (store.root / "claims" / "2").mkdir()  # type: ignore[attr-defined]
    else:
        assert store._mkcol("claims/2") is True  # type: ignore[attr-defined]
    info = store.read_claim("claims/2")
    assert info.exists and info.record is None
    assert info.age_seconds is not None and -2 < info.age_seconds < 5
