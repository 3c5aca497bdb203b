"""Nothing is lost, whatever the order of taps on two devices (issue 13).

Two devices of one server (iPhone, iPad) share a folder backup account and each has one more of
its own. Each round, both devices may add accounts (each acknowledged with a 201), then one of
them makes a choice the pages offer: turn backup on, and in a conflict replace, merge, restore,
use another backup account, or cancel; or turn backup off (keeping or deleting the backup). A
choice is sometimes made from a screen opened before the other device acted (a stale
generation): the 409 is answered as the page does, with one more tap against the fresh holder.

Now and then a device is lost (a phone in a lake): a new device of the same person is added
from the other one and takes its place, and starts with no accounts.

After every round: every account that was on a device or in a backup or kept version before
the round still is (only the accounts a lost device held and no backup did may go with it),
every acknowledged account is so too unless it went down with a lost device before any backup
had it, backups are opened with the recovery key their readable part says they need (both
sheets are at hand), and a device whose backup is on holds exactly what its backup counts.
Versions are kept without limit here (AUTHVAULT_BACKUP_VERSIONS trims the oldest, by design).

Seeded and bounded: AUTHVAULT_RANDOM_SEEDS (default 3 seeds) x AUTHVAULT_RANDOM_ROUNDS (default
14); a failure names its seed and round, and AUTHVAULT_RANDOM_SEED=<n> replays one.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from authvault.backup import BackupError, load
from authvault.backup.objects import OBJECT_NAME, VERSIONS_PREFIX, accounts_of, open_with_recovery_key, parse
from authvault.config import Settings
from tests.conftest import Api
from tests.web.test_backup_story import enroll, secret_for

ROUNDS = int(os.environ.get("AUTHVAULT_RANDOM_ROUNDS", "14"))
SEEDS = ([int(os.environ["AUTHVAULT_RANDOM_SEED"])] if os.environ.get("AUTHVAULT_RANDOM_SEED")
         else list(range(1, int(os.environ.get("AUTHVAULT_RANDOM_SEEDS", "3")) + 1)))
CHOICES = ("replace", "merge", "restore", "other", "cancel", "off")


@dataclass
class Device:
    name: str
    api: Api
    own_folder: dict[str, Any]
    screen: dict[str, Any] | None = None  # the holder a conflict screen showed, maybe stale


@dataclass
class World:
    rng: random.Random
    shared: dict[str, Any]
    keys: dict[tuple[str, str], str] = field(default_factory=dict)  # key origin -> key (both sheets)
    acknowledged: dict[str, str] = field(default_factory=dict)  # secret -> label
    opened: dict[str, set[str]] = field(default_factory=dict)  # sha256 of an object -> its secrets
    log: list[str] = field(default_factory=list)
    n: int = 0
    gone: set[str] = field(default_factory=set)  # went down with a lost device, in no backup
    everywhere: set[str] = field(default_factory=set)  # on a device or in a backup, last round
    folders: list[dict[str, Any]] = field(default_factory=list)

    def remember_key(self, body: dict[str, Any]) -> None:
        if body.get("recovery_key"):
            origin = body["key_origin"]
            self.keys[(origin["device_name"], origin["created_at"])] = body["recovery_key"]

    def key_for(self, holder: dict[str, Any]) -> str:
        origin = holder["key_origin"]
        assert origin, f"no key origin for {holder}"
        return self.keys[(origin["device_name"], origin["created_at"])]


def secrets_on(api: Api) -> set[str]:
    accounts = api.get("/api/codes").get_json()["accounts"]
    return {a["issuer"] for a in accounts}


def backed_up_secrets(world: World, folders: list[dict[str, Any]]) -> set[str]:
    """The labels of every account in every backup and kept version at these backup accounts."""
    found: set[str] = set()
    for target in folders:
        store = load(target)
        names = [OBJECT_NAME] + [n for n in store.list(VERSIONS_PREFIX) if n.endswith(".json")]
        for name in names:
            got = store.read(name)
            if got is None:
                continue
            digest = hashlib.sha256(got[0]).hexdigest()
            if digest not in world.opened:
                parsed = parse(*got)
                origin = parsed.holder.key_origin
                assert origin is not None, f"{name} at {target['path']} does not say whose key opens it"
                key = world.keys[(origin.device_name, origin.created_at)]
                _, _, db = open_with_recovery_key(parsed, key)
                world.opened[digest] = {a.issuer for a in accounts_of(db)}
            found |= world.opened[digest]
    return found


def add_some(world: World, device: Device) -> None:
    for _ in range(world.rng.randint(0, 2)):
        world.n += 1
        label = f"{device.name}-{world.n}"
        resp = device.api.post("/api/accounts", {"issuer": label, "name": "me", "secret": secret_for(label)})
        if resp.status_code == 201:
            world.acknowledged[label] = label
            world.log.append(f"{device.name} adds {label}")


def status(device: Device) -> dict[str, Any]:
    return device.api.get("/api/backup?check=1").get_json()


def choose(world: World, device: Device) -> None:
    """One choice of the pages, as a person makes it on `device`."""
    st = status(device)
    choice = world.rng.choice(CHOICES)
    world.log.append(f"{device.name} ({st['state']}) chooses {choice}")
    if choice == "off":
        if st["state"] != "off":
            delete = world.rng.random() < 0.3
            resp = device.api.post("/api/backup/disable", {"delete_remote": delete})
            assert resp.status_code == 200, resp.get_json()
            world.log.append(f"  off, {'deleted' if delete else 'kept'}")
        return
    if choice == "other":
        if st["state"] == "on" and world.rng.random() < 0.5:
            return
        if st["state"] != "off":
            device.api.post("/api/backup/disable", {"delete_remote": False})
        resp = device.api.post("/api/backup/enable", {"target": device.own_folder})
        if resp.status_code == 409:  # its own folder holds its own older backup: take it back
            holder = resp.get_json()["error"]["holder"]
            resp = device.api.post("/api/backup/enable", {"target": device.own_folder, "resolution": "replace",
                                                          "expected_generation": holder["generation"]})
        assert resp.status_code == 200, resp.get_json()
        world.remember_key(resp.get_json())
        return
    # The shared backup account: turn on there (or, when taken over, choose again there).
    target = None if st["state"] == "replaced" else world.shared
    if st["state"] == "on" and st["target"]["where"] != load(world.shared).describe():
        target = world.shared
        device.api.post("/api/backup/disable", {"delete_remote": False})
    elif st["state"] not in ("off", "replaced"):
        return  # on at the shared account already: nothing to choose
    if device.screen is None or world.rng.random() < 0.5:
        first = device.api.post("/api/backup/enable", {"target": target})
        if first.status_code == 200:  # it was free
            world.remember_key(first.get_json())
            device.screen = None
            return
        assert first.status_code == 409, first.get_json()
        device.screen = first.get_json()["error"]["holder"]
    if choice == "cancel":
        return  # the screen stays as it was, maybe stale by the next round
    for _attempt in range(3):
        holder = device.screen
        body: dict[str, Any] = {"target": target, "resolution": choice,
                                "expected_generation": holder["generation"]}
        if choice in ("merge", "restore"):
            body["recovery_key"] = world.key_for(holder)
        resp = device.api.post("/api/backup/enable", body)
        if resp.status_code == 409 and resp.get_json()["error"]["code"] == "backup_taken":
            err = resp.get_json()["error"]
            assert "expected_generation" in err, err
            device.screen = err["holder"]  # "iPad backed up again...: Merge again?" one tap
            world.log.append(f"  changed meanwhile: generation {err['holder']['generation']}")
            continue
        if resp.status_code == 404:  # the backup was deleted meanwhile: turn on afresh
            device.screen = None
            return
        assert resp.status_code == 200, (choice, resp.get_json())
        world.remember_key(resp.get_json())
        device.screen = None
        return
    raise AssertionError("three taps and the backup changed every time")


def lose_one(world: World, app: Any, devices: list[Device], tmp_path: Path) -> None:
    """A device is lost; the person adds a new one from the other and carries on there."""
    i = world.rng.randrange(2)
    lost, other = devices[i], devices[1 - i]
    held = secrets_on(lost.api) - secrets_on(other.api) - backed_up_secrets(world, world.folders)
    world.gone |= held
    world.everywhere -= held
    world.n += 1
    name = f"{lost.name.split()[0]} {world.n}"
    folder = tmp_path / f"own-{world.n}"
    folder.mkdir()
    world.folders.append({"kind": "folder", "path": str(folder)})
    devices[i] = Device(name, enroll(app, other.api, name), world.folders[-1])
    world.log.append(f"{lost.name} is lost ({len(held)} accounts in no backup); {name} takes its place")


def check(world: World, devices: list[Device], folders: list[dict[str, Any]]) -> None:
    on_devices = set().union(*(secrets_on(d.api) for d in devices))
    kept = backed_up_secrets(world, folders)
    now = on_devices | kept
    dropped = world.everywhere - now
    assert not dropped, f"no longer on a device or in a backup: {sorted(dropped)}"
    lost = set(world.acknowledged) - now - world.gone
    assert not lost, f"lost: {sorted(lost)}"
    world.everywhere = now
    for d in devices:
        st = d.api.get("/api/backup").get_json()
        if st["state"] == "on":
            assert st["count"] == len(d.api.get("/api/codes").get_json()["accounts"]), (d.name, st)


@pytest.mark.parametrize("seed", SEEDS)
def test_no_acknowledged_account_is_lost_whatever_the_order_of_choices(
        seed: int, settings: Settings, tmp_path: Path) -> None:
    from authvault.web import create_app
    app = create_app(dataclasses.replace(settings, backup_versions=1000), {"TESTING": True})
    first = Api(app.test_client())
    first.setup("iPhone")
    folders = []
    for name in ("shared", "iphone-own", "ipad-own"):
        (tmp_path / name).mkdir()
        folders.append({"kind": "folder", "path": str(tmp_path / name)})
    world = World(random.Random(seed), folders[0], folders=folders)
    iphone = Device("iPhone", first, folders[1])
    ipad = Device("iPad", enroll(app, first, "iPad"), folders[2])
    devices = [iphone, ipad]
    for round_ in range(ROUNDS):
        try:
            for d in devices:
                add_some(world, d)
            if world.rng.random() < 0.12:
                lose_one(world, app, devices, tmp_path)
            choose(world, world.rng.choice(devices))
            check(world, devices, world.folders)
        except (AssertionError, BackupError) as exc:
            steps = "\n".join(world.log[-12:])
            raise AssertionError(f"seed {seed}, round {round_}: {exc}\nlast steps:\n{steps}\n"
                                 f"replay: AUTHVAULT_RANDOM_SEED={seed}") from exc
