"""The one-backup-per-account rule on every kind of backup account, against real servers.

Servers (tests/backup_servers.py) run on 127.0.0.1 and are started and stopped by these tests:
a temp folder, wsgidav in process, Debian Apache mod_dav (skipped if missing), and moto's server,
an S3 *emulator*. Two AuthVault "servers" are two BackupService objects with different lock
folders; threads inside one server share a lock folder. Cheap scrypt (TEST_SCRYPT) throughout.
"""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from authvault.backup import (
    BackupReplaced,
    BackupRolledBack,
    BackupService,
    BackupState,
    BackupTaken,
    BackupTampered,
    BackupUnreachable,
    EnableResult,
    RecoveryKeyRequired,
    WrongRecoveryKey,
    load,
)
from authvault.backup.objects import OBJECT_NAME
from authvault.model import Account
from authvault.vault import crypto, envelope
from authvault.vault.crypto import TEST_SCRYPT
from authvault.vault.slots import new_recovery_key
from authvault.web.errors import status_of
from tests.backup_servers import start_apache, start_wsgidav
from tests.plugins.backup_servers import require_server

Target = Callable[..., dict[str, Any]]


def accounts(tag: str, n: int = 3, *, device_only: int = 0) -> list[Account]:
    """n accounts whose issuers carry `tag` (so a mixed backup would show), plus device-only."""
    out = [Account(secret=os.urandom(20), issuer=f"{tag}-issuer-{i}", name=f"{tag}@example.com")
           for i in range(n)]
    out += [Account(secret=os.urandom(20), issuer=f"{tag}-work-{i}", name=f"{tag}@corp",
                    backup_policy="this-device-only") for i in range(device_only)]
    return out


@pytest.fixture
def service(tmp_path: Path) -> BackupService:
    """One AuthVault server's backup service (its own lock folder)."""
    return BackupService(tmp_path / "locks-a", scrypt=TEST_SCRYPT)


@pytest.fixture
def other_server(tmp_path: Path) -> BackupService:
    """A second AuthVault server: its own lock folder, so only the claims keep it in line."""
    return BackupService(tmp_path / "locks-b", scrypt=TEST_SCRYPT)


def raw(target: dict[str, Any]) -> Any:
    """A plain store on the same account, for tampering from outside AuthVault."""
    return load(target)


# -- the key test --------------------------------------------------------------------------------

@pytest.mark.slow
def test_twenty_concurrent_enables_leave_exactly_one_holder(
        new_target: Target, tmp_path: Path) -> None:
    """Two servers (two lock folders) x 10 threads each start 20 enables behind a barrier."""
    rounds, threads = 10, 20
    servers = [BackupService(tmp_path / f"locks-{s}", scrypt=TEST_SCRYPT) for s in "ab"]
    for r in range(rounds):
        target = new_target()
        barrier = threading.Barrier(threads)
        outcome: list[Any] = [None] * threads
        sets = [accounts(f"r{r}t{i}", 2 + i % 3) for i in range(threads)]

        def run(i: int) -> None:
            store = load(target)  # each device has its own connection
            barrier.wait(30)
            try:
                outcome[i] = servers[i % 2].enable(
                    store, device_id=f"device-{i}", device_name=f"Device {i}",
                    accounts=sets[i])
            except Exception as exc:  # noqa: BLE001 - every outcome is checked below
                outcome[i] = exc

        pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(120)
        winners = [i for i, o in enumerate(outcome) if not isinstance(o, Exception)]
        assert len(winners) == 1, (r, outcome)
        w = winners[0]
        losers = [o for i, o in enumerate(outcome) if i != w]
        assert all(isinstance(o, BackupTaken) for o in losers), (
            r, [repr(o) for o in losers if not isinstance(o, BackupTaken)])
        assert all(o.holder.device_id == f"device-{w}" for o in losers)
        # No torn or mixed object: it parses, decrypts with the winner's key, and is the winner's.
        holder, restored = servers[0].restore(load(target), outcome[w].recovery_key)
        assert holder.device_id == f"device-{w}" and holder.device_name == f"Device {w}"
        assert holder.generation == outcome[w].state.generation
        assert sorted(a.issuer for a in restored) == sorted(a.issuer for a in sets[w])
        assert {a.secret for a in restored} == {a.secret for a in sets[w]}


@pytest.mark.slow
def test_concurrent_replaces_from_two_servers_have_one_winner(
        new_target: Target, tmp_path: Path) -> None:
    """A taken account; 10 devices on two servers all choose Replace at the same moment."""
    servers = [BackupService(tmp_path / f"locks-{s}", scrypt=TEST_SCRYPT) for s in "ab"]
    for r in range(3):
        target = new_target()
        first = servers[0].enable(load(target), device_id="phone", device_name="iPhone",
                                  accounts=accounts("phone"))
        threads = 10
        barrier = threading.Barrier(threads)
        outcome: list[Any] = [None] * threads

        def run(i: int) -> None:
            store = load(target)
            barrier.wait(30)
            try:
                outcome[i] = servers[i % 2].enable(
                    store, device_id=f"tab-{i}", device_name=f"Tablet {i}",
                    accounts=accounts(f"tab{i}"), resolution="replace",
                    expected_generation=first.state.generation)
            except Exception as exc:  # noqa: BLE001
                outcome[i] = exc

        pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(120)
        winners = [i for i, o in enumerate(outcome) if not isinstance(o, Exception)]
        assert len(winners) == 1, (r, [repr(o) for o in outcome])
        assert all(isinstance(o, BackupTaken) for i, o in enumerate(outcome)
                   if i != winners[0]), [repr(o) for o in outcome
                                         if not isinstance(o, (BackupTaken, EnableResult))]
        w = outcome[winners[0]]
        assert servers[1].inspect(load(target)).device_id == f"tab-{winners[0]}"
        assert servers[1].restore(load(target), w.recovery_key)[0].generation == 2
        with pytest.raises(BackupReplaced):
            servers[0].push(load(target), first.state, accounts("phone"))
        assert len(servers[0].list_versions(load(target))) == 1


# -- the normal story ----------------------------------------------------------------------------

def test_first_enable_push_and_restore(service: BackupService, new_target: Target) -> None:
    store = load(new_target())
    assert service.inspect(store) is None
    mine = accounts("phone", 3, device_only=1)
    result = service.enable(store, device_id="phone-id", device_name="iPhone", accounts=mine)
    assert result.recovery_key and result.state and result.accounts is None
    assert result.holder.count == 4 and result.holder.generation == 1
    state = result.state
    for g in range(2, 5):
        mine = mine + accounts(f"more{g}", 1)
        state = service.push(store, state, mine)
        assert state.generation == g
    holder = service.inspect(store)
    assert holder.device_name == "iPhone" and holder.count == len(mine) and holder.generation == 4
    restored_holder, restored = service.restore(load(store_target(store)), result.recovery_key)
    assert restored_holder == holder
    normal = [a for a in restored if not a.action_required]
    assert [(a.issuer, a.secret) for a in normal] == [
        (a.issuer, a.secret) for a in mine if a.backup_policy == "backup"]


def store_target(store: Any) -> dict[str, Any]:
    """Rebuild a target from a store (a "new device" opening the same backup account)."""
    if store.kind == "folder":
        return {"kind": "folder", "path": str(store.root)}
    if store.kind == "webdav":
        user, password = store.session.auth
        return {"kind": "webdav", "url": store.url, "username": user, "password": password}
    creds = store.client._request_signer._credentials
    return {"kind": "s3", "endpoint_url": store.endpoint_url, "bucket": store.bucket,
            "prefix": store.prefix, "access_key_id": creds.access_key,
            "secret_access_key": creds.secret_key, "region": "us-east-1"}


def test_device_only_accounts_come_back_as_action_required(
        service: BackupService, new_target: Target) -> None:
    store = load(new_target())
    mine = accounts("phone", 2, device_only=2)
    result = service.enable(store, device_id="p", device_name="iPhone", accounts=mine)
    data = store.read(OBJECT_NAME)[0]
    for acc in mine[2:]:
        assert acc.secret.hex() not in data.decode()
    _, restored = service.restore(store, result.recovery_key)
    placeholders = [a for a in restored if a.action_required]
    assert [(a.issuer, a.name) for a in placeholders] == [(a.issuer, a.name) for a in mine[2:]]
    assert all(a.secret == b"" for a in placeholders)
    # Backing the placeholders up again keeps them as placeholders (no empty secrets).
    state = service.push(store, result.state, restored)
    _, again = service.restore(store, result.recovery_key)
    assert sorted((a.issuer, a.action_required) for a in again) == \
        sorted((a.issuer, a.action_required) for a in restored)
    assert state.generation == 2


def test_backup_vault_is_a_standard_aegis_vault(service: BackupService,
                                                new_target: Target) -> None:
    store = load(new_target())
    mine = accounts("phone", 2)
    result = service.enable(store, device_id="p", device_name="iPhone", accounts=mine)
    obj = json.loads(store.read(OBJECT_NAME)[0])
    vault = obj["vault"]
    assert vault["version"] == 1 and vault["header"]["slots"][0]["type"] == 1
    db = envelope.read_aegis_vault(vault, result.recovery_key)  # the key as printed
    assert [e["issuer"] for e in db["entries"]] == [a.issuer for a in mine]
    assert db["authvault"]["holder"]["device_name"] == "iPhone"


def test_push_runs_no_scrypt(service: BackupService, new_target: Target,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    store = load(new_target())
    result = service.enable(store, device_id="p", device_name="iPhone", accounts=accounts("p"))
    calls: list[int] = []
    real = crypto.scrypt_kek
    monkeypatch.setattr(crypto, "scrypt_kek", lambda *a, **k: calls.append(1) or real(*a, **k))
    state = BackupState.from_json(json.loads(json.dumps(result.state.to_json())))
    service.push(store, state, accounts("p", 5))
    assert calls == []
    assert "master_key" not in repr(state) and state.master_key.hex() not in repr(state)


# -- conflicts ------------------------------------------------------------------------------

def test_second_device_is_told_who_holds_the_account(
        service: BackupService, other_server: BackupService, new_target: Target) -> None:
    target = new_target()
    service.enable(load(target), device_id="phone", device_name="iPhone",
                   accounts=accounts("phone", 4))
    with pytest.raises(BackupTaken) as exc:
        other_server.enable(load(target), device_id="tab", device_name="iPad",
                            accounts=accounts("tab"))
    err = exc.value
    assert err.code == "backup_taken" and status_of(err) == 409
    assert err.extra["holder"]["device_name"] == "iPhone" and err.extra["holder"]["count"] == 4
    assert err.extra["holder"]["updated_at"].endswith("Z")
    assert {"replace", "merge", "restore", "cancel"} <= set(err.extra["choices"])
    assert "iPhone" in err.text()


def test_replace_keeps_the_old_backup_and_the_old_device_is_told(
        service: BackupService, other_server: BackupService, new_target: Target) -> None:
    target = new_target()
    phone = service.enable(load(target), device_id="phone", device_name="iPhone",
                           accounts=accounts("phone", 4))
    tab = other_server.enable(load(target), device_id="tab", device_name="iPad",
                              accounts=accounts("tab", 2), resolution="replace")
    assert tab.recovery_key and tab.recovery_key != phone.recovery_key
    assert tab.superseded and tab.state.generation == 2
    with pytest.raises(BackupReplaced) as exc:
        service.push(load(target), phone.state, accounts("phone", 5))
    assert exc.value.code == "backup_replaced"
    assert exc.value.holder.device_name == "iPad"
    assert exc.value.extra["holder"]["updated_at"] == tab.state.updated_at
    # Nothing lost: the phone's backup is a version, and opens with the phone's key.
    versions = service.list_versions(load(target))
    assert [v.holder.device_name for v in versions] == ["iPhone"]
    holder, restored = service.restore_version(load(target), versions[0].name,
                                               phone.recovery_key)
    assert holder.count == 4 and len(restored) == 4
    with pytest.raises(WrongRecoveryKey):
        service.restore_version(load(target), versions[0].name, tab.recovery_key)


def test_merge_needs_the_key_and_returns_both_sets(
        service: BackupService, other_server: BackupService, new_target: Target) -> None:
    target = new_target()
    phone_accounts = accounts("phone", 3)
    phone = service.enable(load(target), device_id="phone", device_name="iPhone",
                           accounts=phone_accounts)
    tab_accounts = accounts("tab", 2) + [phone_accounts[0]]  # one in common
    with pytest.raises(RecoveryKeyRequired):
        other_server.enable(load(target), device_id="tab", device_name="iPad",
                            accounts=tab_accounts, resolution="merge")
    with pytest.raises(WrongRecoveryKey):
        other_server.enable(load(target), device_id="tab", device_name="iPad",
                            accounts=tab_accounts, resolution="merge",
                            recovery_key=new_recovery_key())
    merged = other_server.enable(load(target), device_id="tab", device_name="iPad",
                                 accounts=tab_accounts, resolution="merge",
                                 recovery_key=phone.recovery_key.lower().replace("-", " "))
    assert merged.recovery_key is None  # the same key keeps opening the backup
    assert len(merged.accounts) == 5
    assert {a.secret for a in merged.accounts} == {a.secret for a in phone_accounts + tab_accounts}
    holder, restored = service.restore(load(target), phone.recovery_key)
    assert holder.device_name == "iPad" and holder.count == 5 and len(restored) == 5
    assert len(service.list_versions(load(target))) == 1
    with pytest.raises(BackupReplaced):
        service.push(load(target), phone.state, phone_accounts)


def test_restore_choice_returns_the_holders_accounts_and_takes_nothing_over(
        service: BackupService, other_server: BackupService, new_target: Target) -> None:
    target = new_target()
    phone_accounts = accounts("phone", 3, device_only=1)
    phone = service.enable(load(target), device_id="phone", device_name="iPhone",
                           accounts=phone_accounts)
    result = other_server.enable(load(target), device_id="tab", device_name="iPad",
                                 accounts=[], resolution="restore",
                                 recovery_key=phone.recovery_key)
    assert result.state is None and result.holder.device_name == "iPhone"
    assert len(result.accounts) == 4 and sum(a.action_required for a in result.accounts) == 1
    assert service.push(load(target), phone.state, phone_accounts).generation == 2


def test_versions_keep_five(service: BackupService, other_server: BackupService,
                            new_target: Target) -> None:
    target = new_target()
    result = service.enable(load(target), device_id="d0", device_name="Device 0",
                            accounts=accounts("d0"))
    keys = [result.recovery_key]
    for i in range(1, 8):
        srv = (service, other_server)[i % 2]
        result = srv.enable(load(target), device_id=f"d{i}", device_name=f"Device {i}",
                            accounts=accounts(f"d{i}", i), resolution="replace")
        keys.append(result.recovery_key)
    versions = service.list_versions(load(target))
    assert [v.holder.device_name for v in versions] == [f"Device {i}" for i in (6, 5, 4, 3, 2)]
    holder, restored = service.restore_version(load(target), versions[-1].name, keys[2])
    assert holder.device_id == "d2" and len(restored) == 2


# -- damage ----------------------------------------------------------------------------------

def _enable(service: BackupService, target: dict[str, Any]) -> Any:
    return service.enable(load(target), device_id="phone", device_name="iPhone",
                          accounts=accounts("phone", 3))


def test_changed_holder_name_is_tampered(service: BackupService, new_target: Target) -> None:
    target = new_target()
    result = _enable(service, target)
    store = raw(target)
    data, etag = store.read(OBJECT_NAME)
    obj = json.loads(data)
    obj["holder"]["device_name"] = "Mallory's phone"
    store.write(OBJECT_NAME, json.dumps(obj).encode(), if_match=etag)
    with pytest.raises(BackupTampered) as exc:
        service.push(load(target), result.state, accounts("phone"))
    assert exc.value.code == "backup_tampered"
    with pytest.raises(BackupTampered):
        service.restore(load(target), result.recovery_key)


def test_flipped_ciphertext_byte_is_tampered_not_wrong_key(
        service: BackupService, new_target: Target) -> None:
    target = new_target()
    result = _enable(service, target)
    store = raw(target)
    data, etag = store.read(OBJECT_NAME)
    obj = json.loads(data)
    import base64
    blob = bytearray(base64.b64decode(obj["vault"]["db"]))
    blob[len(blob) // 2] ^= 0x01
    obj["vault"]["db"] = base64.b64encode(bytes(blob)).decode()
    store.write(OBJECT_NAME, json.dumps(obj).encode(), if_match=etag)
    with pytest.raises(BackupTampered):
        service.restore(load(target), result.recovery_key)
    with pytest.raises(BackupTampered):
        service.push(load(target), result.state, accounts("phone"))


def test_torn_object_is_repaired_from_the_claim_copy(service: BackupService,
                                                     new_target: Target) -> None:
    """A writer killed mid-PUT leaves half an object on wsgidav; the claim holds a full copy."""
    target = new_target()
    result = _enable(service, target)
    store = raw(target)
    data, etag = store.read(OBJECT_NAME)
    store.write(OBJECT_NAME, data[: len(data) // 2], if_match=etag)  # torn
    assert service.inspect(load(target)).generation == 1
    state = service.push(load(target), result.state, accounts("phone", 4))
    assert state.generation == 2
    assert service.restore(load(target), result.recovery_key)[0].count == 4


def test_unreadable_object_without_a_copy_is_tampered(service: BackupService,
                                                      new_target: Target) -> None:
    target = new_target()
    result = _enable(service, target)
    store = raw(target)
    for name in store.list_claims("claims"):
        store.delete_claim(name)
    data, etag = store.read(OBJECT_NAME)
    store.write(OBJECT_NAME, data[: len(data) // 2], if_match=etag)
    with pytest.raises(BackupTampered):
        service.push(load(target), result.state, accounts("phone"))
    with pytest.raises(BackupTampered):
        service.restore(load(target), result.recovery_key)


def test_older_generation_put_back_is_rolled_back(service: BackupService,
                                                  new_target: Target) -> None:
    target = new_target()
    result = _enable(service, target)
    store = raw(target)
    old, _ = store.read(OBJECT_NAME)
    state = service.push(load(target), result.state, accounts("phone", 4))
    state = service.push(load(target), state, accounts("phone", 5))
    _, etag = store.read(OBJECT_NAME)
    store.write(OBJECT_NAME, old, if_match=etag)
    with pytest.raises(BackupRolledBack) as exc:
        service.push(load(target), state, accounts("phone", 6))
    assert exc.value.code == "backup_rolled_back" and exc.value.seen == 1
    assert exc.value.expected == 3


def test_wrong_recovery_key(service: BackupService, new_target: Target) -> None:
    target = new_target()
    _enable(service, target)
    for key in (new_recovery_key(), "not a key at all"):
        with pytest.raises(WrongRecoveryKey) as exc:
            service.restore(load(target), key)
        assert exc.value.code == "wrong_recovery_key"


def test_abandoned_claim_is_skipped_after_the_lease(tmp_path: Path,
                                                    new_target: Target) -> None:
    """A writer that died right after winning claims/2 does not wedge the account: its claim
    counts as abandoned once its record is older than the lease. The age is the record's
    `claimed_at` (the writer's clock), so a record written a lease ago is what waiting for the lease
    would give, with no sleep and a lease long enough that a loaded machine never runs a live
    writer past half of it."""
    from authvault.backup import BackupBusy
    lease = 30.0
    service = BackupService(tmp_path / "locks", scrypt=TEST_SCRYPT, claim_lease=lease,
                            claim_wait=0.5)
    for claimed_ago, abandoned in ((lease - 5, False), (lease + 5, True)):
        target = new_target()
        result = _enable(service, target)
        record = {"generation": 2, "device_id": "ghost", "claimed_at": time.time() - claimed_ago}
        assert raw(target).claim("claims/2", json.dumps(record).encode())
        if not abandoned:  # still within the lease: somebody may be writing
            with pytest.raises(BackupBusy):
                service.push(load(target), result.state, accounts("phone"))
            continue
        state = service.push(load(target), result.state, accounts("phone", 4))
        assert state.generation == 3 and service.inspect(load(target)).count == 4


def test_disable_deletes_only_this_devices_backup(
        service: BackupService, other_server: BackupService, new_target: Target) -> None:
    target = new_target()
    phone = _enable(service, target)
    tab = other_server.enable(load(target), device_id="tab", device_name="iPad",
                              accounts=accounts("tab"), resolution="replace")
    service.disable(load(target), phone.state, delete_remote=True)  # not its backup any more
    assert service.inspect(load(target)).device_name == "iPad"
    other_server.disable(load(target), tab.state, delete_remote=True)
    assert service.inspect(load(target)) is None
    # the phone's backup, kept when the tablet replaced it, is not the tablet's to delete
    assert [v.holder.device_name for v in service.list_versions(load(target))] == ["iPhone"]
    fresh = service.enable(load(target), device_id="x", device_name="X", accounts=[])
    assert fresh.state.generation == 1


@pytest.mark.parametrize("server", ["wsgidav", "apache"])
def test_server_stopped_mid_backup_is_unreachable_and_nothing_is_lost(
        server: str, tmp_path: Path) -> None:
    require_server(server)
    dav = start_wsgidav(tmp_path / "dav") if server == "wsgidav" else start_apache()
    service = BackupService(tmp_path / "locks", scrypt=TEST_SCRYPT)
    try:
        target = dav.target()
        result = _enable(service, target)
        dav.stop()
        with pytest.raises(BackupUnreachable) as exc:
            service.push(load(target), result.state, accounts("phone", 7))
        assert exc.value.code == "backup_unreachable"
        dav.start()
        state = service.push(load(target), result.state, accounts("phone", 7))
        assert state.generation == 2
        assert service.restore(load(target), result.recovery_key)[0].count == 7
    finally:
        dav.stop()
        if server == "apache":
            import shutil
            shutil.rmtree(dav.extra["base"], ignore_errors=True)


# -- processes ---------------------------------------------------------------------------------

PUSHER = r'''
import json, os, sys, time
from authvault.backup import BackupBusy, BackupService, BackupState, BackupTaken, load
from authvault.model import Account
from authvault.vault.crypto import TEST_SCRYPT

target, state_file, lock_dir = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
service = BackupService(lock_dir, scrypt=TEST_SCRYPT, claim_lease=0.6, claim_wait=0.3)

def accounts_for(counter):
    # deterministic per counter; the count varies so a mix of two states would show; 60+
    # accounts make the PUT long enough that some kills land in the middle of it
    return [Account(secret=bytes([counter % 256, k]) * 10, issuer=f"c{counter}-{k}",
                    name="burst", id=f"{counter:08x}{k:024x}") for k in range(60 + counter % 5)]

def save(data):  # the "vault": atomic replace, like the app's SQLite commit
    tmp = state_file + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(data, fh); fh.flush(); os.fsync(fh.fileno())
    os.replace(tmp, state_file)

if os.path.exists(state_file):
    saved = json.load(open(state_file))
    state, counter = BackupState.from_json(saved["state"]), saved["counter"]
else:
    try:
        result = service.enable(load(target), device_id="burst", device_name="Burst",
                                accounts=accounts_for(0))
    except BackupTaken:  # killed after the first backup, before the vault kept its state
        result = service.enable(load(target), device_id="burst", device_name="Burst",
                                accounts=accounts_for(0), resolution="replace")
    state, counter = result.state, 0
    save({"state": state.to_json(), "counter": 0, "key": result.recovery_key})
key = json.load(open(state_file))["key"]
for _ in range(10000):
    counter += 1
    for _ in range(100):
        try:
            state = service.push(load(target), state, accounts_for(counter))
            break
        except BackupBusy:
            time.sleep(0.1)
    else:
        sys.exit("the backup stayed busy")
    save({"state": state.to_json(), "counter": counter, "key": key})  # acknowledged
    print("ack", counter, flush=True)
'''


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["folder", "wsgidav"])
def test_pusher_killed_at_random_moments_leaves_a_complete_backup(
        kind: str, new_target: Target, tmp_path: Path) -> None:
    """kill -9 a process in the middle of a burst of pushes, 25 times: afterwards the account
    always holds a complete backup of an acknowledged state (or the one being acknowledged)."""
    import random
    import selectors
    import subprocess
    import sys

    from tests.paths import REPO

    target = new_target()
    state_file = tmp_path / "vault.json"
    rng = random.Random(4)
    checker = BackupService(tmp_path / "locks-check", scrypt=TEST_SCRYPT)
    for _attempt in range(25):
        proc = subprocess.Popen([sys.executable, "-c", PUSHER, json.dumps(target),
                                 str(state_file), str(tmp_path / "locks")], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:  # bounded wait for the first acknowledged push
            sel.register(proc.stdout, selectors.EVENT_READ)
            assert sel.select(timeout=60), "the pusher acknowledged nothing within 60 s"
        time.sleep(rng.uniform(0.0, 0.4))
        proc.kill()  # SIGKILL
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == -9, err.decode()[-2000:]
        if not state_file.exists():
            continue  # killed before the first backup finished
        saved = json.loads(state_file.read_text())
        holder, restored = checker.restore(load(target), saved["key"])
        counters = {a.issuer.split("-")[0] for a in restored}
        assert len(counters) == 1, counters  # never a mix of two states
        counter = int(counters.pop()[1:])
        assert counter in (saved["counter"], saved["counter"] + 1), (counter, saved["counter"])
        assert len(restored) == holder.count == 60 + counter % 5
    assert json.loads(state_file.read_text())["counter"] > 25


def test_lock_holds_across_processes(tmp_path: Path, new_target: Target) -> None:
    """A second worker process of the same server waits for the lock (flock, same lock dir)."""
    import multiprocessing

    service = BackupService(tmp_path / "locks", scrypt=TEST_SCRYPT, lock_timeout=0.3)
    target = new_target()
    result = _enable(service, target)
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    worker = ctx.Process(target=_hold_lock, args=(str(tmp_path / "locks"), target, ready,
                                                  release))
    worker.start()
    try:
        assert ready.wait(30)
        from authvault.backup import BackupBusy
        with pytest.raises(BackupBusy):
            service.push(load(target), result.state, accounts("phone"))
    finally:
        release.set()
        worker.join(30)
    assert service.push(load(target), result.state, accounts("phone")).generation == 2


def _hold_lock(lock_dir: str, target: dict[str, Any], ready: Any, release: Any) -> None:
    service = BackupService(lock_dir, scrypt=TEST_SCRYPT)
    with service._locked(load(target)):
        ready.set()
        release.wait(30)


def test_claim_left_by_a_dead_worker_of_this_server_is_skipped_at_once(
        service: BackupService, other_server: BackupService, new_target: Target) -> None:
    """Holding the server's lock proves no live worker of this server is mid-transition."""
    target = new_target()
    result = _enable(service, target)
    record = {"generation": 2, "device_id": "phone", "claimed_at": time.time()}
    assert raw(target).claim("claims/2", json.dumps(
        dict(record, server_id=service.server_id())).encode())
    started = time.monotonic()
    state = service.push(load(target), result.state, accounts("phone", 4))
    assert state.generation == 3 and time.monotonic() - started < 5
    # ...but another server's fresh claim is respected until its lease runs out.
    assert raw(target).claim("claims/4", json.dumps(
        dict(record, server_id=other_server.server_id())).encode())
    quick = BackupService(service.lock_dir, scrypt=TEST_SCRYPT, claim_wait=0.2)
    from authvault.backup import BackupBusy
    with pytest.raises(BackupBusy):
        quick.push(load(target), state, accounts("phone", 5))


def test_claim_left_without_its_record_is_skipped_after_the_grace(
        kind: str, service: BackupService, new_target: Target,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer killed between creating its claim and writing the record in it."""
    if kind == "s3":
        pytest.skip("an S3 claim is its record: created in one atomic PUT")
    from authvault.backup import service as service_module
    target = new_target()
    result = _enable(service, target)
    # Shortened only now: the grace also bounds how long a writer's own claim may take to get its
    # record (half of it), and 0.15 s was too little for the enable's on a loaded machine.
    monkeypatch.setattr(service_module, "RECORD_GRACE", 0.6)
    store = raw(target)
    if kind == "folder":
        (store.root / "claims" / "2").mkdir()
    else:
        assert store._mkcol("claims/2") is True
    state = service.push(load(target), result.state, accounts("phone", 4))
    assert state.generation == 3
