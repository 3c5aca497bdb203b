"""Unlocking a device: passphrase, passkey, the PRF slot upgrade, signing a browser back in, re-asking
the passphrase, and counting failures (no Flask here; the web layer parses, calls one of these, and
shows the result).

Who is slowed down by failures, and why (README, "Security"):

- A browser that holds the device's cookie (the owner's phone, or whoever holds it) is counted per
  device: 10 wrong passphrases or passkeys go through, then each further try waits 1, 2, 4 ...
  minutes (at most an hour), and the tenth failure ends the device's unlock sessions. Only that
  browser has the cookie, so nobody else can make the device wait.
- Signing back in (a browser without the cookie: the owner after clearing the browser's data, or a
  stranger on the network) is counted per client address, per network (IPv4 /24, IPv6 /64) and
  per typed device name, and never against the device itself: a stranger can slow down sign-in
  from their network, but never lock the device, close its sessions, or make its own browser wait.

Every attempt is counted *before* the passphrase or passkey is tried, in one SQLite transaction
shared by every gunicorn worker, and given back when it succeeds: requests in flight can never
get more tries through than the limit (issue 12 saw 17 through a limit of 10).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import math
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from .. import audit
from ..db import transaction
from ..errors import N_, AuthVaultError
from ..vault import crypto
from ..vault import store as accts
from ..vault.errors import WrongPassphrase
from . import passkeys, registry, sessions


@dataclass(frozen=True)
class Policy:
    """How failures on one key are slowed down: `free` failures go through at once; after that the
    next try waits `base` seconds, doubling with every failure up to `cap`. A key is forgotten
    `forget` seconds after its last failure."""

    free: int
    base: float
    cap: float
    forget: float = 24 * 3600

    def delay(self, failures: int) -> float:
        """Seconds until the next try, after `failures` failures."""
        if failures < self.free:
            return 0.0
        return min(self.base * 2 ** min(failures - self.free, 30), self.cap)


# With the device cookie: the person holding the device. 10 tries, then 1, 2, 4 ... 60 minutes.
DEVICE = Policy(free=10, base=60, cap=3600)
# Without the cookie (sign-in): per address, per /24 or /64 network, per typed device name.
ADDRESS = Policy(free=5, base=15, cap=3600)
NETWORK = Policy(free=20, base=15, cap=3600)
NAME = Policy(free=20, base=60, cap=3600)
LOCK_AT = DEVICE.free  # the failure that reaches this ends the device's unlock sessions


class UnlockError(AuthVaultError):
    """An unlock that is refused before anything is tried."""


class TooManyAttempts(UnlockError):
    """Too many failures: wait `retry_after` seconds."""

    def __init__(self, retry_after: float, by_device: bool) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        minutes = max(1, math.ceil(self.retry_after / 60))
        if by_device:
            message = N_("Too many failed unlock attempts. Wait %(minutes)s min and try again.")
        else:
            message = N_("Too many failed sign-in attempts from this network. Wait %(minutes)s min and try again. "
                         "Your devices themselves are not locked.")
        super().__init__("too_many_attempts", message, minutes=minutes)
        self.extra = {"retry_after": self.retry_after}


class SignInFailed(UnlockError):
    """The device name and passphrase do not match (never says which of the two is wrong)."""

    def __init__(self) -> None:
        super().__init__("signin_failed", N_("That device name and passphrase do not match. Check both and try "
                                             "again (the name is the one shown in Settings › Devices)."))


# --- counting -----------------------------------------------------------------------------------

@dataclass
class Attempt:
    """Tries counted up front on these keys (given back if the try succeeds)."""

    keys: list[tuple[str, Policy]]
    prior: dict[str, float] = field(default_factory=dict)  # each key's wait before this try
    failures: dict[str, int] = field(default_factory=dict)  # each key's count with this try


def network_of(address: str) -> str | None:
    """The network an address belongs to for counting: IPv4 /24, IPv6 /64 (None if no address)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def device_keys(device_id: str) -> list[tuple[str, Policy]]:
    """What a try from the device's own browser counts against."""
    return [(f"device:{device_id}", DEVICE)]


def name_key(name: str, pepper: bytes) -> str:
    """A typed device name as a counting key: keyed-hashed, so a passphrase typed into the name field
    is never stored, and a name that is no device counts exactly like one that is."""
    return "name:" + hmac.new(pepper, normalize_name(name).encode(), hashlib.sha256).hexdigest()[:32]


def stranger_keys(client: str, name: str | None, pepper: bytes) -> list[tuple[str, Policy]]:
    """What a try without the device cookie counts against: the address, its network, the name."""
    keys: list[tuple[str, Policy]] = [(f"addr:{client}", ADDRESS)]
    net = network_of(client)
    if net:
        keys.append((f"net:{net}", NETWORK))
    if name is not None:
        keys.append((name_key(name, pepper), NAME))
    return keys


def _rows(conn: sqlite3.Connection, keys: list[tuple[str, Policy]], now: float) -> dict[str, sqlite3.Row]:
    out = {}
    for key, policy in keys:
        row = conn.execute("SELECT failures, last_failure_at, next_allowed_at FROM unlock_failures WHERE key = ?",
                           (key,)).fetchone()
        if row is not None and now - row["last_failure_at"] <= policy.forget:
            out[key] = row
    return out


def wait_for(conn: sqlite3.Connection, keys: list[tuple[str, Policy]], now: float | None = None) -> float:
    """Seconds until a try on these keys is allowed (0: now)."""
    now = time.time() if now is None else now
    return max([0.0] + [row["next_allowed_at"] - now for row in _rows(conn, keys, now).values()])


def check(conn: sqlite3.Connection, keys: list[tuple[str, Policy]], *, by_device: bool) -> None:
    """Refuse (TooManyAttempts) if a try on these keys would have to wait; counts nothing."""
    wait = wait_for(conn, keys)
    if wait > 0:
        raise TooManyAttempts(wait, by_device)


def begin(conn: sqlite3.Connection, keys: list[tuple[str, Policy]], *, by_device: bool,
          now: float | None = None) -> Attempt:
    """Count a try on every key before it is made, or refuse it (TooManyAttempts), in one transaction."""
    now = time.time() if now is None else now
    attempt = Attempt(keys)
    with transaction(conn):
        oldest = now - max(p.forget for _k, p in keys)
        conn.execute("DELETE FROM unlock_failures WHERE last_failure_at < ?", (oldest,))
        rows = _rows(conn, keys, now)
        wait = max([0.0] + [row["next_allowed_at"] - now for row in rows.values()])
        if wait > 0:
            raise TooManyAttempts(wait, by_device)
        for key, policy in keys:
            row = rows.get(key)
            failures = (row["failures"] if row else 0) + 1
            attempt.prior[key] = row["next_allowed_at"] if row else 0.0
            attempt.failures[key] = failures
            conn.execute("INSERT INTO unlock_failures(key, failures, last_failure_at, next_allowed_at) "
                         "VALUES (?,?,?,?) ON CONFLICT(key) DO UPDATE SET failures = excluded.failures, "
                         "last_failure_at = excluded.last_failure_at, next_allowed_at = excluded.next_allowed_at",
                         (key, failures, now, now + policy.delay(failures)))
    return attempt


def give_back(conn: sqlite3.Connection, attempt: Attempt, *, clear: tuple[str, ...] = ()) -> None:
    """The try succeeded: keys in `clear` start over; the others get this one try back (inside the
    caller's transaction). Only the device's own count is cleared: someone on the same network who
    signs in must not wipe the count a stranger built up there."""
    for key, _policy in attempt.keys:
        if key in clear:
            conn.execute("DELETE FROM unlock_failures WHERE key = ?", (key,))
        else:
            conn.execute("UPDATE unlock_failures SET failures = MAX(failures - 1, 0), "
                         "next_allowed_at = MIN(next_allowed_at, ?) WHERE key = ?", (attempt.prior[key], key))


def _failed_on_device(conn: sqlite3.Connection, attempt: Attempt, device_id: str, err: AuthVaultError,
                      client: str) -> None:
    """Record a wrong passphrase or passkey from the device's own browser; the tenth ends its sessions."""
    with transaction(conn):
        audit.record(conn, "unlock_failed", device_id=device_id, detail=err.code, client=client)
        if attempt.failures.get(f"device:{device_id}", 0) >= LOCK_AT:
            sessions.close_device_sessions(conn, device_id)


# --- the flows ----------------------------------------------------------------------------------

def _unlocked(conn: sqlite3.Connection, attempt: Attempt, device_id: str, detail: str, client: str) -> None:
    give_back(conn, attempt, clear=(f"device:{device_id}",))
    registry.mark_used(conn, device_id)
    audit.record(conn, "unlock", device_id=device_id, detail=detail, client=client)


def with_passphrase(conn: sqlite3.Connection, device: registry.Device, passphrase: str, client: str) -> bytes:
    """Unlock the device this browser is with its passphrase; the master key (WrongPassphrase otherwise)."""
    attempt = begin(conn, device_keys(device.id), by_device=True)
    try:
        master_key = accts.unlock_with_passphrase(conn, device.id, passphrase)
    except AuthVaultError as err:
        _failed_on_device(conn, attempt, device.id, err, client)
        raise
    with transaction(conn):
        _unlocked(conn, attempt, device.id, "passphrase", client)
    return master_key


def confirm_passphrase(conn: sqlite3.Connection, device: registry.Device, passphrase: str, client: str) -> None:
    """The person proves it is them again (an unlocked device, before an export or removing a device);
    counted like unlocking, so a stolen unlocked phone cannot be used to guess the passphrase."""
    attempt = begin(conn, device_keys(device.id), by_device=True)
    try:
        accts.unlock_with_passphrase(conn, device.id, passphrase)
    except AuthVaultError as err:
        _failed_on_device(conn, attempt, device.id, err, client)
        raise
    with transaction(conn):
        give_back(conn, attempt, clear=(f"device:{device.id}",))


def passkey_options(conn: sqlite3.Connection, rp: passkeys.RelyingParty, device: registry.Device) -> str:
    """Options for a passkey unlock of this device (refused while the device has to wait)."""
    check(conn, device_keys(device.id), by_device=True)
    return passkeys.authentication_options(conn, rp, device)


@dataclass(frozen=True)
class PasskeyUnlock:
    """A passkey unlock: the master key and how this passkey now unlocks (`prf` after an upgrade)."""

    master_key: bytes
    unlock_mode: str
    account_count: int | None


def with_passkey(conn: sqlite3.Connection, rp: passkeys.RelyingParty, device: registry.Device,
                 credential: dict[str, Any], device_key: bytes | None, client: str) -> PasskeyUnlock:
    """Unlock with one of this device's passkeys: its PRF output, or this browser's device key.

    A device-key passkey whose browser now returns PRF output is upgraded: the passkey itself then
    holds the key (a `prf` slot), and the device key is no longer needed for it.
    """
    attempt = begin(conn, device_keys(device.id), by_device=True)
    prf = None
    try:
        pk = passkeys.verify_authentication(conn, rp, device, credential)
        prf = passkeys.prf_output(credential)
        env = accts.read_envelope(conn, device.id)
        if pk.unlock_mode == "prf":
            if prf is None:
                raise passkeys.PasskeyError("passkey_prf_missing", N_(
                    "This browser did not return the passkey's key this time. Unlock with your passphrase."))
            master_key = passkeys.unlock_vault(env, pk, prf)
        else:
            if device_key is None:
                raise passkeys.PasskeyError("device_key_missing", N_(
                    "This browser no longer holds the key this passkey needs (its data may have been cleared). "
                    "Unlock with your passphrase, then add a passkey again in Settings › Devices."))
            master_key = passkeys.unlock_vault(env, pk, device_key)
    except AuthVaultError as err:
        _failed_on_device(conn, attempt, device.id, err, client)
        raise
    mode = pk.unlock_mode
    with transaction(conn):
        if mode == "device_key" and prf is not None:
            env = passkeys.add_unlock_slot(accts.read_envelope(conn, device.id), master_key, pk.id, "prf", prf)
            accts.write_envelope(conn, device.id, env)
            passkeys.set_unlock_mode(conn, pk.id, "prf")
            audit.record(conn, "passkey_upgraded", device_id=device.id, detail="prf", client=client)
            mode = "prf"
        _unlocked(conn, attempt, device.id, "passkey", client)
    prf = None  # the secret is not kept beyond this point
    try:
        count: int | None = len(accts.load_accounts(conn, device.id, master_key))
    except AuthVaultError:  # the count is a convenience; unlocking already succeeded
        count = None
    if count is not None:  # the devices page says how many accounts each device holds
        with transaction(conn):
            registry.record_account_count(conn, device.id, count)
    return PasskeyUnlock(master_key, mode, count)


def normalize_name(name: str) -> str:
    """A device name as compared at sign-in: spaces collapsed, case ignored."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class SignedIn:
    """A browser signed back in to a device: its new cookie token and the unlocked master key."""

    device: registry.Device
    master_key: bytes
    cookie_token: str
    removed_passkeys: int


def _open_by_name(conn: sqlite3.Connection, name: str, passphrase: str,
                  dummy: crypto.ScryptParams) -> tuple[registry.Device, bytes] | None:
    """The device of this name whose passphrase this is. Names need not be unique: each device of
    that name is tried. With no such device, one scrypt runs anyway, so the time taken does not say
    whether the name exists."""
    wanted = normalize_name(name)
    matches = [d for d in registry.list_devices(conn) if normalize_name(d.name) == wanted]
    for device in matches:
        try:
            return device, accts.unlock_with_passphrase(conn, device.id, passphrase)
        except WrongPassphrase:
            continue
    if not matches:
        crypto.scrypt_kek(passphrase.encode(), crypto.random_bytes(32), dummy)
    return None


def sign_in(conn: sqlite3.Connection, name: str, passphrase: str, client: str, *, pepper: bytes,
            dummy_cost: crypto.ScryptParams) -> SignedIn:
    """Sign a browser without the device cookie back in to the device it names, with that device's
    passphrase: the device gets a new cookie token (the old cookie stops working), its unlock
    sessions end, and its device-key passkeys (whose key the cleared browser held) are removed.

    Failures count against the client's address, network and the typed name, never the device.
    """
    attempt = begin(conn, stranger_keys(client, name, pepper), by_device=False)
    found = _open_by_name(conn, name, passphrase, dummy_cost)
    if found is None:
        with transaction(conn):
            # No device id: the event must not tell whether the name was right.
            audit.record(conn, "signin_failed", client=client)
        raise SignInFailed()
    device, master_key = found
    return _signed_in(conn, attempt, device, master_key, "passphrase", client)


def _signed_in(conn: sqlite3.Connection, attempt: Attempt, device: registry.Device, master_key: bytes,
               how: str, client: str) -> SignedIn:
    """The common end of a sign-in: a new cookie token, the device's sessions ended, its device-key
    passkeys (their key was in the cleared browser) removed."""
    with transaction(conn):
        give_back(conn, attempt)
        cookie_token = registry.rotate_cookie(conn, device.id)
        sessions.close_device_sessions(conn, device.id)
        stale = [pk for pk in passkeys.list_passkeys(conn, device.id) if pk.unlock_mode == "device_key"]
        if stale:
            env = passkeys.remove_device_key_slots(accts.read_envelope(conn, device.id), master_key)
            accts.write_envelope(conn, device.id, env)
            for pk in stale:
                passkeys.delete_passkey_row(conn, pk.id)
                audit.record(conn, "passkey_removed", device_id=device.id, detail="device_key_lost", client=client)
        registry.mark_used(conn, device.id)
        audit.record(conn, "signed_in", device_id=device.id, detail=how, client=client)
        audit.record(conn, "unlock", device_id=device.id, detail=how, client=client)
    return SignedIn(registry.get_device(conn, device.id) or device, master_key, cookie_token, len(stale))


def signin_wait(conn: sqlite3.Connection, client: str) -> int:
    """Seconds this address (or its network) must wait before its next sign-in try (0: none)."""
    return math.ceil(wait_for(conn, stranger_keys(client, None, b"")))


# --- signing back in with a passkey ---------------------------------------------------------------
#
# A passkey that holds its vault key (PRF) brings a cleared browser back without the passphrase and
# is not slowed down by passphrase guesses from the same network: a stranger cannot answer a
# passkey's challenge. Its own failures are counted per address and network (PASSKEY_*), so junk
# answers stay cheap. The person types the device name first, so the browser can be asked for that
# device's passkeys with its PRF salt in one prompt. A name that is no device gets options of the
# same shape (a credential id and a salt derived from the name), so the answer does not say whether
# the name exists.

PASSKEY_ADDRESS = Policy(free=10, base=15, cap=3600)
PASSKEY_NETWORK = Policy(free=40, base=15, cap=3600)


def passkey_stranger_keys(client: str) -> list[tuple[str, Policy]]:
    """What a passkey sign-in try counts against: its own address and network keys."""
    keys: list[tuple[str, Policy]] = [(f"pk-addr:{client}", PASSKEY_ADDRESS)]
    net = network_of(client)
    if net:
        keys.append((f"pk-net:{net}", PASSKEY_NETWORK))
    return keys


def _named(conn: sqlite3.Connection, name: str) -> list[registry.Device]:
    wanted = normalize_name(name)
    return [d for d in registry.list_devices(conn) if normalize_name(d.name) == wanted]


@dataclass(frozen=True)
class PasskeySignInOptions:
    """What the browser needs for one passkey prompt: WebAuthn request options and the PRF salt."""

    options: dict[str, Any]
    prf_salt: str


def passkey_signin_options(conn: sqlite3.Connection, rp: passkeys.RelyingParty, name: str, client: str, *,
                           pepper: bytes) -> PasskeySignInOptions:
    """Request options for the PRF passkeys of the device with this name (or look-alike options)."""
    check(conn, passkey_stranger_keys(client), by_device=False)
    for device in _named(conn, name):
        if any(pk.unlock_mode == "prf" for pk in passkeys.list_passkeys(conn, device.id)):
            opts = json.loads(passkeys.authentication_options(conn, rp, device, modes=("prf",)))
            return PasskeySignInOptions(opts, passkeys.prf_salt(conn, device.id))
    return PasskeySignInOptions(json.loads(passkeys.decoy_options(rp, _derived(pepper, "credential", name))),
                                base64.urlsafe_b64encode(_derived(pepper, "salt", name)).decode().rstrip("="))


def _derived(pepper: bytes, what: str, name: str) -> bytes:
    return hmac.new(pepper, f"{what}:{normalize_name(name)}".encode(), hashlib.sha256).digest()


def sign_in_with_passkey(conn: sqlite3.Connection, rp: passkeys.RelyingParty, name: str,
                         credential: dict[str, Any], client: str) -> SignedIn:
    """Sign a browser back in to the device of this name with one of its PRF passkeys."""
    attempt = begin(conn, passkey_stranger_keys(client), by_device=False)
    try:
        cred_id = credential.get("id") if isinstance(credential, dict) else None
        pk = passkeys.get_passkey(conn, cred_id) if isinstance(cred_id, str) else None
        device = registry.get_device(conn, pk.device_id) if pk is not None else None
        if pk is None or device is None or normalize_name(device.name) != normalize_name(name):
            raise SignInFailed()
        pk = passkeys.verify_authentication(conn, rp, device, credential)
        prf = passkeys.prf_output(credential)
        if pk.unlock_mode != "prf" or prf is None:
            raise passkeys.PasskeyError("passkey_prf_missing", N_(
                "This passkey cannot open the vault by itself in this browser. Sign in with the passphrase."))
        master_key = passkeys.unlock_vault(accts.read_envelope(conn, device.id), pk, prf)
        prf = None
    except AuthVaultError as err:
        with transaction(conn):
            audit.record(conn, "signin_failed", detail=err.code, client=client)
        raise
    return _signed_in(conn, attempt, device, master_key, "passkey", client)
