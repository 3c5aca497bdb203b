"""Passkeys: WebAuthn registration and login with py_webauthn, and the vault slots they open.

No Flask here: functions take a database connection, the relying party, the device and the
credential JSON (as `PublicKeyCredential.toJSON()` writes it) and return data or raise
`PasskeyError`.

How a passkey unlocks a vault (two cases, `unlock_mode`):

- `prf`: the browser returned the WebAuthn PRF output for the device's PRF salt. The vault gets a
  `passkey` slot whose key-encryption key is HKDF(PRF output): the passkey itself unwraps the
  master key. The PRF output reaches the server only inside a verified login, is used once and is
  never stored or logged.
- `device_key`: no PRF. The server makes a random 32-byte device key that lives only in this
  browser's HttpOnly device-key cookie (path /api/passkeys/), and the vault gets a `passkey`
  slot, credential id `device-key:<credential id>`, wrapped under HKDF(device key). The server
  opens it only after a verified, user-verified assertion of that passkey from the browser whose
  device cookie names this device. The database alone decrypts nothing.

Challenges are kept in SQLite (shared by every gunicorn worker), bound to a device and a purpose,
valid for two minutes and deleted on first use, so an answer cannot be replayed.
"""
from __future__ import annotations

import binascii
import json
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import InvalidJSONStructure, WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from .. import audit
from ..config import is_ip_address
from ..db import transaction
from ..errors import N_, AuthVaultError
from ..vault import envelope, slots
from ..vault import store as vault_store
from ..vault.errors import VaultError
from . import registry

CHALLENGE_SECONDS = 120
CEREMONY_TIMEOUT_MS = 120_000
DEVICE_KEY_PREFIX = "device-key:"
DEVICE_KEY_BYTES = 32
PRF_SALT_SETTING = "prf_salt"
MAX_PASSKEY_NAME = 60
RP_NAME = "AuthVault"

UnlockMode = Literal["prf", "device_key"]
Purpose = Literal["register", "login"]


class PasskeyError(AuthVaultError):
    """A passkey that cannot be registered, used or found; `code` says why."""


class PasskeyLoginRefused(PasskeyError):
    """A login answer that does not prove the person (wrong site, no user verification, a bad
    signature...): the same codes as a refused registration, but here the person is not let in."""


# --- where passkeys can work -------------------------------------------------------------------

@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys belong to: the RP ID (a host name) and the exact origin pages are served from."""

    id: str
    origin: str
    name: str = RP_NAME


@dataclass(frozen=True)
class Availability:
    """Whether passkeys work at the address this page was opened at, and if not, why and where."""

    rp: RelyingParty | None
    reason: str | None = None  # ip, http, other_address, no_name
    message: str | None = None
    better_url: str | None = None
    rp_id: str | None = None  # the RP ID passkeys belong to, for the message

    @property
    def ok(self) -> bool:
        """True when a browser can use passkeys here."""
        return self.rp is not None


def _split_host(host: str) -> str:
    """The host name of a Host header value, without port or IPv6 brackets, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _is_localhost(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def availability(*, scheme: str, host: str, rp_id: str | None, origin: str | None,
                 host_name: str | None) -> Availability:
    """Whether WebAuthn can work for a page opened at scheme://host, given the configured names.

    WebAuthn needs a secure context (HTTPS, or http://localhost) and a domain name: an IP address
    is never a valid RP ID. The RP ID is fixed in configuration (AUTHVAULT_RP_ID, else
    AUTHVAULT_HOST_NAME) because passkeys are bound to it; without one, only localhost works. The
    reasons are the ones the /connect page and its banner use: ip, http, other_address, no_name.
    """
    hostname = _split_host(host)
    configured = (rp_id or host_name or "").strip().lower().rstrip(".") or None
    better = (origin.rstrip("/") if origin else None) or (f"https://{host_name}" if host_name else None)
    if better and is_ip_address(_split_host(urlsplit(better).netloc)):
        better = None
    if is_ip_address(hostname):
        return Availability(None, "ip", N_(
            "Passkeys (Face ID, fingerprint) cannot work when AuthVault is opened by an IP address. "
            "Your passphrase works here."), better, configured)
    if scheme != "https" and not _is_localhost(hostname):
        return Availability(None, "http", N_(
            "Passkeys (Face ID, fingerprint) need a secure HTTPS address, and this page was opened over "
            "plain HTTP. Your passphrase works here."), better, configured)
    page_origin = f"{scheme}://{host.strip().lower()}"
    if configured is None and not _is_localhost(hostname):
        return Availability(None, "no_name", N_(
            "This server has no name yet (AUTHVAULT_HOST_NAME), so passkeys work only on the computer it "
            "runs on (http://localhost). Your passphrase works here."), better, None)
    rp = configured or hostname
    wrong_place = (hostname != rp and not hostname.endswith("." + rp)) or \
        bool(origin and origin.rstrip("/").lower() != page_origin)
    if wrong_place:
        # A configured origin is what passkeys were registered for: a page elsewhere cannot use them.
        return Availability(None, "other_address", N_(
            "Passkeys for this AuthVault belong to %(rp_id)s, but this page was opened at another address. "
            "Your passphrase works here."), better, rp)
    return Availability(RelyingParty(id=rp, origin=page_origin))


# --- stored passkeys ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Passkey:
    """A registered passkey of one device (its public part only)."""

    id: str  # credential id, base64url
    device_id: str
    name: str
    public_key: bytes
    sign_count: int
    transports: list[str]
    unlock_mode: UnlockMode
    device_type: str  # single_device or multi_device (synced)
    backed_up: bool
    created_at: float
    last_used_at: float | None


def _row(row: sqlite3.Row) -> Passkey:
    return Passkey(id=row["id"], device_id=row["device_id"], name=row["name"],
                   public_key=bytes(row["public_key"]), sign_count=row["sign_count"],
                   transports=json.loads(row["transports"] or "[]"), unlock_mode=row["unlock_mode"],
                   device_type=row["device_type"], backed_up=bool(row["backed_up"]),
                   created_at=row["created_at"], last_used_at=row["last_used_at"])


def list_passkeys(conn: sqlite3.Connection, device_id: str) -> list[Passkey]:
    """A device's passkeys, oldest first."""
    rows = conn.execute("SELECT * FROM passkeys WHERE device_id = ? ORDER BY created_at", (device_id,))
    return [_row(r) for r in rows]


def unlock_summary(conn: sqlite3.Connection, device_id: str) -> str:
    """How a device unlocks: `passkey_prf`, `passkey_device_key`, `mixed` or `passphrase_only`."""
    modes = {pk.unlock_mode for pk in list_passkeys(conn, device_id)}
    if not modes:
        return "passphrase_only"
    if modes == {"prf"}:
        return "passkey_prf"
    if modes == {"device_key"}:
        return "passkey_device_key"
    return "mixed"


def count_passkeys(conn: sqlite3.Connection, device_id: str) -> int:
    """How many passkeys a device has."""
    return conn.execute("SELECT COUNT(*) FROM passkeys WHERE device_id = ?", (device_id,)).fetchone()[0]


def get_passkey(conn: sqlite3.Connection, credential_id: str) -> Passkey | None:
    """The passkey with this credential id, whichever device it belongs to, or None."""
    row = conn.execute("SELECT * FROM passkeys WHERE id = ?", (credential_id,)).fetchone()
    return _row(row) if row else None


def device_passkey(conn: sqlite3.Connection, device_id: str, credential_id: str) -> Passkey:
    """This device's passkey with that id (PasskeyError passkey_not_found otherwise)."""
    pk = get_passkey(conn, credential_id)
    if pk is None or pk.device_id != device_id:
        raise PasskeyError("passkey_not_found", N_("That passkey is not registered on this device."))
    return pk


def clean_passkey_name(name: object) -> str:
    """A passkey name as stored: trimmed, 1 to 60 characters."""
    if not isinstance(name, str) or not name.strip():
        raise PasskeyError("passkey_name_required", N_("Give the passkey a name."))
    name = " ".join(name.split())
    if len(name) > MAX_PASSKEY_NAME:
        raise PasskeyError("passkey_name_too_long", N_("A passkey name can be at most %(max)s characters."),
                           max=MAX_PASSKEY_NAME)
    return name


def rename_passkey(conn: sqlite3.Connection, device_id: str, credential_id: str, name: object) -> Passkey:
    """Rename one of this device's passkeys (inside the caller's transaction)."""
    device_passkey(conn, device_id, credential_id)
    conn.execute("UPDATE passkeys SET name = ? WHERE id = ?", (clean_passkey_name(name), credential_id))
    return device_passkey(conn, device_id, credential_id)


def delete_passkey_row(conn: sqlite3.Connection, credential_id: str) -> None:
    """Forget a passkey (its vault slot is removed separately, by `remove_unlock_slots`)."""
    conn.execute("DELETE FROM passkeys WHERE id = ?", (credential_id,))


def prf_salt(conn: sqlite3.Connection, device_id: str) -> str:
    """This device's PRF salt (base64url, 32 bytes), made once. Not secret: the PRF needs the passkey."""
    salt = registry.get_setting(conn, device_id, PRF_SALT_SETTING)
    if salt:
        return salt
    salt = bytes_to_base64url(secrets.token_bytes(32))
    conn.execute("INSERT OR IGNORE INTO device_settings(device_id, key, value) VALUES (?,?,?)",
                 (device_id, PRF_SALT_SETTING, salt))
    return registry.get_setting(conn, device_id, PRF_SALT_SETTING) or salt


# --- challenges --------------------------------------------------------------------------------

def _store_challenge(conn: sqlite3.Connection, challenge: bytes, device_id: str, purpose: Purpose) -> None:
    now = time.time()
    conn.execute("DELETE FROM passkey_challenges WHERE expires_at < ?", (now,))
    conn.execute("INSERT INTO passkey_challenges(challenge, device_id, purpose, expires_at) VALUES (?,?,?,?)",
                 (bytes_to_base64url(challenge), device_id, purpose, now + CHALLENGE_SECONDS))


def _challenge_invalid() -> PasskeyError:
    return PasskeyError("passkey_challenge_invalid", N_(
        "This passkey answer has expired or was already used. Try again."))


def _client_data(credential: dict[str, Any]) -> dict[str, Any]:
    try:
        raw = base64url_to_bytes(credential["response"]["clientDataJSON"])
        data = json.loads(raw)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise _malformed() from exc
    if not isinstance(data, dict) or not isinstance(data.get("challenge"), str):
        raise _malformed()
    return data


def consume_challenge(conn: sqlite3.Connection, credential: dict[str, Any], device_id: str,
                      purpose: Purpose) -> bytes:
    """Take the challenge this credential answers, once: it must be live, this device's and this purpose's."""
    challenge = _client_data(credential)["challenge"]
    # Its own transaction, committed even when the answer is refused later: a challenge is used once.
    with transaction(conn):
        row = conn.execute("SELECT device_id, purpose, expires_at FROM passkey_challenges WHERE challenge = ?",
                           (challenge,)).fetchone()
        if row is not None:
            conn.execute("DELETE FROM passkey_challenges WHERE challenge = ?", (challenge,))
    if row is None or row["device_id"] != device_id or row["purpose"] != purpose or row["expires_at"] < time.time():
        raise _challenge_invalid()
    try:
        return base64url_to_bytes(challenge)
    except (ValueError, binascii.Error) as exc:
        raise _malformed() from exc


# --- ceremonies --------------------------------------------------------------------------------

def _malformed() -> PasskeyError:
    return PasskeyError("passkey_invalid", N_(
        "The browser sent a passkey answer AuthVault cannot read. Try again, or use another browser."))


def _descriptor(pk: Passkey) -> PublicKeyCredentialDescriptor:
    transports = []
    for t in pk.transports:
        try:
            transports.append(AuthenticatorTransport(t))
        except ValueError:
            continue  # a transport this py_webauthn does not know: leave it out
    return PublicKeyCredentialDescriptor(id=base64url_to_bytes(pk.id), transports=transports or None)


def registration_options(conn: sqlite3.Connection, rp: RelyingParty, device: registry.Device) -> str:
    """The options for `navigator.credentials.create()`, as `options_to_json` writes them.

    User verification is required; the user handle is the device id, so each device's passkeys
    are their own and a synced passkey manager keeps one entry per device.
    """
    opts = generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_id=bytes.fromhex(device.id), user_name=device.name,
        user_display_name=f"{device.name} ({rp.name})", timeout=CEREMONY_TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[_descriptor(pk) for pk in list_passkeys(conn, device.id)])
    with transaction(conn):
        _store_challenge(conn, opts.challenge, device.id, "register")
    return options_to_json(opts)


def authentication_options(conn: sqlite3.Connection, rp: RelyingParty, device: registry.Device,
                           modes: tuple[UnlockMode, ...] = ("prf", "device_key")) -> str:
    """The options for `navigator.credentials.get()`: only this device's passkeys (of these unlock
    modes), UV required."""
    mine = [pk for pk in list_passkeys(conn, device.id) if pk.unlock_mode in modes]
    if not mine:
        raise PasskeyError("no_passkeys", N_(
            "This device has no passkey yet. Unlock with your passphrase, then add one in Settings."))
    opts = generate_authentication_options(
        rp_id=rp.id, timeout=CEREMONY_TIMEOUT_MS, allow_credentials=[_descriptor(pk) for pk in mine],
        user_verification=UserVerificationRequirement.REQUIRED)
    with transaction(conn):
        _store_challenge(conn, opts.challenge, device.id, "login")
    return options_to_json(opts)


def decoy_options(rp: RelyingParty, credential_id: bytes) -> str:
    """Options shaped like a device's, for one credential that exists nowhere (sign-in with a name
    that is no device); no challenge is stored, so no answer to them is ever accepted."""
    opts = generate_authentication_options(
        rp_id=rp.id, timeout=CEREMONY_TIMEOUT_MS, user_verification=UserVerificationRequirement.REQUIRED,
        allow_credentials=[PublicKeyCredentialDescriptor(id=credential_id[:16],
                                                         transports=[AuthenticatorTransport.INTERNAL,
                                                                     AuthenticatorTransport.HYBRID])])
    return options_to_json(opts)


# Messages of py_webauthn's exceptions, mapped to what a person is told.
_REASONS: list[tuple[str, str, str]] = [
    ("client data origin", "passkey_wrong_origin", N_(
        "This passkey answer came from another website address than this AuthVault. Open AuthVault at its "
        "usual address and try again.")),
    ("RP ID hash", "passkey_wrong_rp_id", N_(
        "This passkey was made for another website, not for this AuthVault.")),
    ("user was not verified", "passkey_user_not_verified", N_(
        "The passkey did not check that it is you (no Face ID, fingerprint or PIN). Try again and confirm "
        "with your face, fingerprint or device PIN.")),
    ("User was not present", "passkey_user_not_verified", N_(
        "The passkey did not check that it is you (no Face ID, fingerprint or PIN). Try again and confirm "
        "with your face, fingerprint or device PIN.")),
    ("sign count", "passkey_counter_mismatch", N_(
        "This passkey's counter went backwards, which happens when an answer is replayed or a passkey "
        "was copied. It was refused. Unlock with your passphrase and check this device's passkeys.")),
    ("challenge", "passkey_challenge_invalid", N_(
        "This passkey answer has expired or was already used. Try again.")),
    ("signature", "passkey_bad_signature", N_(
        "The passkey's signature does not match the passkey registered for this device.")),
]


def _refused(exc: WebAuthnException, *, login: bool) -> PasskeyError:
    kind = PasskeyLoginRefused if login else PasskeyError
    text = str(exc)
    for needle, code, message in _REASONS:
        if needle.lower() in text.lower():
            return kind(code, message)
    if isinstance(exc, InvalidJSONStructure):
        return _malformed()
    return kind("passkey_refused", N_("The passkey answer was refused. Try again."))


@dataclass(frozen=True)
class NewPasskey:
    """A verified registration: what to store, and whether the browser can derive PRF keys."""

    id: str
    public_key: bytes
    sign_count: int
    transports: list[str]
    device_type: str
    backed_up: bool


def verify_registration(conn: sqlite3.Connection, rp: RelyingParty, device: registry.Device,
                        credential: dict[str, Any]) -> NewPasskey:
    """Check a `navigator.credentials.create()` answer against this device's live challenge.

    Uses up the challenge in its own transaction (call it outside one); stores nothing else.
    """
    if not isinstance(credential, dict):
        raise _malformed()
    challenge = consume_challenge(conn, credential, device.id, "register")
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.id,
            expected_origin=rp.origin, require_user_verification=True)
    except WebAuthnException as exc:  # InvalidRegistrationResponse, InvalidJSONStructure, ...
        raise _refused(exc, login=False) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise _malformed() from exc
    cid = bytes_to_base64url(verified.credential_id)
    response = credential.get("response") or {}
    listed = response.get("transports")
    transports = [t for t in listed if isinstance(t, str)][:8] if isinstance(listed, list) else []
    return NewPasskey(id=cid, public_key=verified.credential_public_key, sign_count=verified.sign_count,
                      transports=transports, device_type=verified.credential_device_type.value,
                      backed_up=bool(verified.credential_backed_up))


def save_passkey(conn: sqlite3.Connection, device_id: str, new: NewPasskey, name: str,
                 unlock_mode: UnlockMode) -> Passkey:
    """Store a verified passkey for a device (inside the caller's transaction)."""
    if get_passkey(conn, new.id) is not None:
        raise PasskeyError("passkey_exists", N_("This passkey is already registered."))
    conn.execute("INSERT INTO passkeys(id, device_id, name, public_key, sign_count, transports, unlock_mode, "
                 "device_type, backed_up, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                 (new.id, device_id, clean_passkey_name(name), new.public_key, new.sign_count,
                  json.dumps(new.transports), unlock_mode, new.device_type, int(new.backed_up), time.time()))
    return device_passkey(conn, device_id, new.id)


def unlock_secret(prf: bytes | None, device_key: bytes | None) -> tuple[UnlockMode, bytes, bytes | None]:
    """How a new passkey will unlock the vault: with its PRF output where the browser gave one, else
    with this browser's device key. Returns the mode, the secret, and a fresh device key when the
    browser held none (the caller gives it to the browser)."""
    if prf is not None:
        return "prf", prf, None
    if device_key:
        return "device_key", device_key, None
    fresh = new_device_key()
    return "device_key", fresh, fresh


def add_passkey(conn: sqlite3.Connection, device_id: str, master_key: bytes, new: NewPasskey, *,
                mode: UnlockMode, secret: bytes, name: object, default_name: Callable[[int], str],
                client: str) -> Passkey:
    """Store a verified passkey and give it a vault slot (its PRF output or the browser's device
    key wraps the master key; the entries are not re-encrypted), in one transaction. Without a
    name it gets `default_name(number)` ("Passkey 2")."""
    with transaction(conn):
        if not isinstance(name, str) or not name.strip():
            name = default_name(count_passkeys(conn, device_id) + 1)
        env = add_unlock_slot(vault_store.read_envelope(conn, device_id), master_key, new.id, mode, secret)
        vault_store.write_envelope(conn, device_id, env)
        pk = save_passkey(conn, device_id, new, str(name), mode)
        audit.record(conn, "passkey_added", device_id=device_id, detail=mode, client=client)
    return pk


def remove_passkey(conn: sqlite3.Connection, device_id: str, master_key: bytes, credential_id: str, *,
                   client: str) -> tuple[Passkey, int]:
    """Remove one of this device's passkeys and its vault slot (the passphrase always still
    unlocks), in one transaction; return it and how many passkeys the device has left."""
    with transaction(conn):
        pk = device_passkey(conn, device_id, credential_id)
        env = remove_unlock_slots(vault_store.read_envelope(conn, device_id), master_key, pk.id)
        vault_store.write_envelope(conn, device_id, env)
        delete_passkey_row(conn, pk.id)
        audit.record(conn, "passkey_removed", device_id=device_id, detail=pk.unlock_mode, client=client)
        left = count_passkeys(conn, device_id)
    return pk, left


def change_name(conn: sqlite3.Connection, device_id: str, credential_id: str, name: object) -> Passkey:
    """Rename one of this device's passkeys (its own transaction)."""
    with transaction(conn):
        return rename_passkey(conn, device_id, credential_id, name)


def set_unlock_mode(conn: sqlite3.Connection, credential_id: str, mode: UnlockMode) -> None:
    """Record how a passkey unlocks the vault (after its slot changed)."""
    conn.execute("UPDATE passkeys SET unlock_mode = ? WHERE id = ?", (mode, credential_id))


def verify_authentication(conn: sqlite3.Connection, rp: RelyingParty, device: registry.Device,
                          credential: dict[str, Any]) -> Passkey:
    """Check a `navigator.credentials.get()` answer: this device's passkey, live challenge, UV, counter.

    Records the new sign count and the time of use (its own transactions: call it outside one). A passkey
    of another device is refused even if it is valid (a synced passkey must not merge devices).
    """
    if not isinstance(credential, dict) or not isinstance(credential.get("id"), str):
        raise _malformed()
    challenge = consume_challenge(conn, credential, device.id, "login")
    pk = get_passkey(conn, credential["id"])
    if pk is None:
        raise PasskeyError("passkey_unknown", N_(
            "This passkey is not registered with AuthVault. Unlock with your passphrase, then add it in "
            "Settings."))
    if pk.device_id != device.id:
        raise PasskeyError("passkey_other_device", N_(
            "This passkey belongs to another of your devices, not to this one. Each device unlocks with its "
            "own passkey."))
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.id,
            expected_origin=rp.origin, credential_public_key=pk.public_key,
            credential_current_sign_count=pk.sign_count, require_user_verification=True)
    except WebAuthnException as exc:
        raise _refused(exc, login=True) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise _malformed() from exc
    with transaction(conn):
        conn.execute("UPDATE passkeys SET sign_count = ?, last_used_at = ?, backed_up = ? WHERE id = ?",
                     (verified.new_sign_count, time.time(), int(verified.credential_backed_up), pk.id))
    return device_passkey(conn, device.id, pk.id)


# --- PRF results -------------------------------------------------------------------------------

def _prf_results(credential: dict[str, Any]) -> Any:
    """`clientExtensionResults.prf` as the browser sent it (PasskeyError if the extension results are no object)."""
    ext = credential.get("clientExtensionResults")
    if ext is None:
        return None
    if not isinstance(ext, dict):
        raise _malformed()
    return ext.get("prf")


def prf_enabled(credential: dict[str, Any]) -> bool:
    """Whether the browser said this passkey supports PRF (`clientExtensionResults.prf.enabled`)."""
    prf = _prf_results(credential)
    return isinstance(prf, dict) and (prf.get("enabled") is True or isinstance(prf.get("results"), dict))


def prf_output(credential: dict[str, Any]) -> bytes | None:
    """The PRF output the browser returned (`clientExtensionResults.prf.results.first`), or None.

    A secret: used at once to open or make a slot; never stored or logged.
    """
    prf = _prf_results(credential)
    if not isinstance(prf, dict) or not isinstance(prf.get("results"), dict):
        return None
    first = prf["results"].get("first")
    if not isinstance(first, str):
        return None
    try:
        value = base64url_to_bytes(first)
    except (ValueError, binascii.Error) as exc:
        raise _malformed() from exc
    if len(value) < 16:
        raise PasskeyError("prf_invalid", N_("The passkey did not return a usable key."))
    return value


# --- device keys (browsers without PRF) -------------------------------------------------------

def new_device_key() -> bytes:
    """A random device key for a browser without PRF (it goes into an HttpOnly cookie only)."""
    return secrets.token_bytes(DEVICE_KEY_BYTES)


def device_key_cookie(device_id: str, key: bytes) -> str:
    """The device-key cookie value: the device it belongs to and the key."""
    return f"{device_id}.{bytes_to_base64url(key)}"


def parse_device_key_cookie(value: str | None, device_id: str) -> bytes | None:
    """The device key in a cookie value, if the cookie belongs to this device; else None."""
    if not value or "." not in value:
        return None
    owner, _, encoded = value.partition(".")
    if owner != device_id:
        return None
    try:
        key = base64url_to_bytes(encoded)
    except (ValueError, binascii.Error):
        return None
    return key if len(key) == DEVICE_KEY_BYTES else None


def slot_credential_id(credential_id: str, mode: UnlockMode) -> str:
    """The credential id a vault slot records: the passkey's own (PRF) or `device-key:<id>`."""
    return credential_id if mode == "prf" else DEVICE_KEY_PREFIX + credential_id


# --- vault slots -------------------------------------------------------------------------------

def _keep(slot: slots.Slot, credential_id: str) -> bool:
    return not (slot.type == "passkey" and slot.credential_id in
                (credential_id, DEVICE_KEY_PREFIX + credential_id))


def add_unlock_slot(env: envelope.Envelope, master_key: bytes, credential_id: str, mode: UnlockMode,
                    secret: bytes) -> envelope.Envelope:
    """The envelope with one slot for this passkey (replacing any it had): PRF output or device key."""
    kept = [s for s in envelope.slots_of(env) if _keep(s, credential_id)]
    new = slots.passkey_slot(master_key, secret, slot_credential_id(credential_id, mode))
    return envelope.with_slots(env, master_key, [*kept, new])


def remove_unlock_slots(env: envelope.Envelope, master_key: bytes, credential_id: str) -> envelope.Envelope:
    """The envelope without this passkey's slots (the passphrase slot always stays)."""
    kept = [s for s in envelope.slots_of(env) if _keep(s, credential_id)]
    return envelope.with_slots(env, master_key, kept)


def remove_device_key_slots(env: envelope.Envelope, master_key: bytes) -> envelope.Envelope:
    """The envelope without any device-key slot (after the browser lost its device-key cookie)."""
    kept = [s for s in envelope.slots_of(env)
            if not (s.type == "passkey" and (s.credential_id or "").startswith(DEVICE_KEY_PREFIX))]
    return envelope.with_slots(env, master_key, kept)


def unlock_vault(env: envelope.Envelope, pk: Passkey, secret: bytes) -> bytes:
    """The master key, opened with a verified passkey's PRF output or the browser's device key."""
    try:
        return envelope.unlock_with_passkey(env, slot_credential_id(pk.id, pk.unlock_mode), secret)
    except VaultError as exc:
        if exc.code in ("wrong_passkey", "slot_missing"):
            raise PasskeyError("passkey_key_mismatch", N_(
                "This passkey was verified but could not open the vault. Unlock with your passphrase, then "
                "remove this passkey and add it again.")) from exc
        raise
