"""Aegis db entries (content version 3) to and from `Account`, keeping AuthVault-only fields.

An entry is exactly what Aegis writes (type, uuid, name, issuer, note, favorite, icon, info,
groups; the list order is the person's manual order) plus an `authvault` object Aegis ignores on import: backup policy, action required, and
anything of ours Aegis cannot hold (an id that is not a UUID, an icon that is not an image).
Groups are Aegis groups `{"uuid", "name"}` whose uuid is derived from the name, so the same
accounts always give the same db. Reading is tolerant of every Aegis db version (1-3).
"""
from __future__ import annotations

import re
import uuid as _uuid
from typing import Any, Iterable, Mapping, TypeGuard

from ..errors import N_
from ..model import Account, new_id
from ..otp import ALGORITHMS, OtpError, decode_base32, encode_secret
from .errors import UnsupportedVaultVersion, VaultError

DB_VERSION = 3  # Aegis content version: per-entry "groups" uuids + top-level "groups" list
OTP_TYPES = ("totp", "hotp", "steam")
AEGIS_ICON_MIMES = ("image/png", "image/jpeg", "image/svg+xml")
# A fixed namespace so a group name always maps to the same Aegis group uuid.
GROUP_NAMESPACE = _uuid.UUID("5d1c3b0e-6a8f-4c52-9a1e-2f7b9d0c4e61")
ID_NAMESPACE = _uuid.UUID("0b6f2d9a-3c41-4e7f-8a25-c91e6d3f7a08")
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+);base64,(?P<data>[A-Za-z0-9+/=]*)$")


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


def _is_map(value: Any) -> TypeGuard[Mapping[str, Any]]:
    return isinstance(value, dict) or isinstance(value, Mapping)  # dict first: the ABC check is slow


def _entry_error(reason: str) -> VaultError:
    return VaultError("entry_invalid", N_("An entry could not be read: %(reason)s."), reason=reason)


def decode_secret(text: str) -> bytes:
    """Raw bytes of a stored base32 secret (`authvault.otp.decode_base32`, the one base32 reader).

    No minimum length here: the vault keeps what it was given, and an account awaiting a new QR
    code has no secret yet. Importers of Aegis files still refuse short keys: every imported
    account goes through `otp.validate`, the same check as `otp.decode_secret`'s.
    """
    if text == "":
        return b""
    try:
        return decode_base32(text)
    except OtpError as exc:  # the decoder's own reason (not base32, too short, ...), never the secret
        raise VaultError("entry_invalid", exc.message, **exc.params) from exc


def group_uuid(name: str) -> str:
    """The Aegis group uuid AuthVault uses for the group called `name`."""
    return str(_uuid.uuid5(GROUP_NAMESPACE, name))


def _entry_uuid(account_id: str) -> tuple[str, bool]:
    """(entry uuid, whether the account id is that uuid)."""
    try:
        value = _uuid.UUID(account_id)
    except (ValueError, AttributeError, TypeError):
        return str(_uuid.uuid5(ID_NAMESPACE, str(account_id))), False
    return str(value), True


def account_to_entry(acc: Account) -> dict[str, Any]:
    """The Aegis db entry of `acc`, with AuthVault-only fields under "authvault"."""
    entry_uuid, id_is_uuid = _entry_uuid(acc.id)
    # Base32 without padding, as Aegis stores secrets.
    info: dict[str, Any] = {"secret": encode_secret(acc.secret), "algo": acc.algorithm,
                            "digits": acc.digits}
    if acc.type == "hotp":
        info["counter"] = acc.counter
    else:
        info["period"] = acc.period
    extra: dict[str, Any] = {"backup_policy": acc.backup_policy,
                             "action_required": acc.action_required}
    if not id_is_uuid:
        extra["id"] = acc.id
    entry: dict[str, Any] = {
        "type": acc.type,
        "uuid": entry_uuid,
        "name": acc.name,
        "issuer": acc.issuer,
        "note": acc.note,
        "favorite": acc.favorite,
        "icon": None,
        "info": info,
        "groups": [group_uuid(acc.group)] if acc.group else [],
    }
    match = _DATA_URL.match(acc.icon or "")
    if match and match["mime"] in AEGIS_ICON_MIMES:
        entry["icon"] = match["data"]
        entry["icon_mime"] = match["mime"]
    elif acc.icon is not None:
        extra["icon"] = acc.icon
    entry["authvault"] = extra
    return entry


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _entry_error(N_("a text field holds something else"))
    return value


def _int(info: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = info.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _entry_error(N_("a number is out of range"))
    return value


def account_from_entry(entry: Mapping[str, Any],
                       group_names: Mapping[str, str] | None = None) -> Account:
    """The Account of one Aegis entry; `group_names` maps group uuid to name (db version 3).

    VaultError code `entry_unsupported` for types AuthVault has no codes for (motp, yandex),
    `entry_invalid` for a malformed entry. The secret never appears in either.
    """
    if not _is_map(entry):
        raise _entry_error(N_("it is not an object"))
    kind = entry.get("type")
    if kind not in OTP_TYPES:
        raise VaultError("entry_unsupported",
                         N_("Accounts of type %(type)s are not supported."), type=str(kind))
    info = entry.get("info")
    if not _is_map(info) or not isinstance(info.get("secret"), str):
        raise _entry_error(N_("the secret is missing"))
    algorithm = info.get("algo", "SHA1")
    algorithm = algorithm.upper() if isinstance(algorithm, str) else algorithm
    if algorithm not in ALGORITHMS:
        raise _entry_error(N_("the algorithm is not SHA1, SHA256 or SHA512"))
    extra = entry.get("authvault")
    extra = extra if _is_map(extra) else {}
    acc = Account(
        secret=decode_secret(info["secret"]),
        type=kind,
        issuer=_text(entry, "issuer"),
        name=_text(entry, "name"),
        algorithm=algorithm,
        digits=_int(info, "digits", 5 if kind == "steam" else 6, 1, 10),
        note=_text(entry, "note"),
        id=_id_of(entry, extra),
    )
    if kind == "hotp":
        acc.counter = _int(info, "counter", 0, 0, 2**63 - 1)
    else:
        acc.period = _int(info, "period", 30, 1, 2**31 - 1)
    acc.group = _group_of(entry, group_names or {})
    acc.icon = _icon_of(entry, extra)
    if extra.get("backup_policy") in ("backup", "this-device-only"):
        acc.backup_policy = extra["backup_policy"]
    acc.action_required = extra.get("action_required") is True
    acc.favorite = entry.get("favorite") is True
    return acc


def _group_of(entry: Mapping[str, Any], group_names: Mapping[str, str]) -> str:
    groups = entry.get("groups")
    if isinstance(groups, list):  # db version 3: uuids into the db's group list
        for ref in groups:
            if isinstance(ref, str) and isinstance(group_names.get(ref), str):
                return group_names[ref]
        return ""
    old = entry.get("group")  # db version 2: the group's name
    return old if isinstance(old, str) else ""


def _icon_of(entry: Mapping[str, Any], extra: Mapping[str, Any]) -> str | None:
    icon = entry.get("icon")
    if isinstance(icon, str) and icon:
        mime = entry.get("icon_mime")
        mime = mime if isinstance(mime, str) else "image/jpeg"  # Aegis's default for old entries
        return f"data:{mime};base64,{icon}"
    own = extra.get("icon")
    return own if isinstance(own, str) else None


def _id_of(entry: Mapping[str, Any], extra: Mapping[str, Any]) -> str:
    own = extra.get("id")
    if isinstance(own, str):
        return own
    raw = entry.get("uuid")
    if not isinstance(raw, str):
        return new_id()
    if _CANONICAL_UUID.match(raw):  # as account_to_entry writes it
        return raw.replace("-", "")
    try:
        return _uuid.UUID(raw).hex
    except ValueError:
        return raw


def db_from_accounts(accounts: Iterable[Account],
                     groups: Iterable[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """An Aegis db (content version 3) holding `accounts` in order, with their groups.

    `groups` is the group list to keep (Aegis `{"uuid", "name"}`, in the person's order): a group
    keeps its uuid across renames and stays while it has no accounts. Groups of accounts that are
    not in it are added after it, with a uuid derived from their name.
    """
    entries: list[dict[str, Any]] = []
    by_name: dict[str, dict[str, str]] = {}
    for group in groups or []:
        if _is_map(group) and isinstance(group.get("uuid"), str) and isinstance(group.get("name"), str) \
                and group["name"] and group["name"] not in by_name:
            by_name[group["name"]] = {"uuid": group["uuid"], "name": group["name"]}
    for acc in accounts:
        entry = account_to_entry(acc)
        if acc.group:
            known = by_name.get(acc.group)
            if known is None:
                known = by_name[acc.group] = {"uuid": group_uuid(acc.group), "name": acc.group}
            entry["groups"] = [known["uuid"]]
        entries.append(entry)
    return {"version": DB_VERSION, "entries": entries, "groups": list(by_name.values())}


def groups_of_db(db: Mapping[str, Any]) -> list[dict[str, str]]:
    """The db's group list (`{"uuid", "name"}`, in order), well-formed entries only."""
    out: list[dict[str, str]] = []
    for group in (db.get("groups") or []) if _is_map(db) else []:
        if _is_map(group) and isinstance(group.get("uuid"), str) and isinstance(group.get("name"), str):
            out.append({"uuid": group["uuid"], "name": group["name"]})
    return out


def accounts_from_db(db: Mapping[str, Any]) -> list[Account]:
    """The accounts of an Aegis db (versions 1-3), in order; the first bad entry raises."""
    version = db.get("version") if isinstance(db, Mapping) else None
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _entry_error(N_("the entry list has no version"))
    if version > DB_VERSION:
        raise UnsupportedVaultVersion(version)
    entries = db.get("entries")
    if not isinstance(entries, list):
        raise _entry_error(N_("there is no entry list"))
    names: dict[str, str] = {}
    for group in db.get("groups") or []:
        if isinstance(group, Mapping) and isinstance(group.get("uuid"), str) \
                and isinstance(group.get("name"), str):
            names[group["uuid"]] = group["name"]
    return [account_from_entry(entry, names) for entry in entries]
