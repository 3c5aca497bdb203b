"""How things are shown: the JSON and template views of accounts (with their codes), devices,
passkeys and security events."""
from __future__ import annotations

import sqlite3
import time
from typing import Any

from flask_babel import gettext

from .. import audit, otp
from ..devices import passkeys, registry
from ..model import Account, Skipped

EVENT_LIMIT = 30


def group_code(code: str | None) -> str:
    """A code split for reading aloud: 123 456, 1234 5678, 12345 (Steam codes stay whole)."""
    if not code:
        return ""
    if len(code) in (6, 8) and code.isdigit():
        half = len(code) // 2
        return f"{code[:half]} {code[half:]}"
    if len(code) == 7 and code.isdigit():
        return f"{code[:3]} {code[3:]}"
    return code


def chosen_icon(acc: Account) -> str | None:
    """The bundled icon the person chose for `acc` ("letter" for the initial), None for automatic.

    An image icon (an Aegis import's data: URL) is kept in the vault for exports but not shown:
    the list loads nothing per account, and never an image that came with an import.
    """
    icon = acc.icon
    return icon if icon and not icon.startswith("data:") and len(icon) <= 64 else None


def groups_view(groups: list[dict[str, str]]) -> list[dict[str, str]]:
    """The group list as the API shows it: id (the Aegis group uuid) and name, in order."""
    return [{"id": g["uuid"], "name": g["name"]} for g in groups]


def account_view(acc: Account, now: float | None = None, *, codes: bool = True) -> dict[str, Any]:
    """What the list and the API show of one account: never its secret (`codes=False`: without
    its codes, which stay null, for answers about many accounts that show none of them)."""
    now = time.time() if now is None else now
    view: dict[str, Any] = {
        "id": acc.id, "issuer": acc.issuer, "name": acc.name, "type": acc.type,
        "algorithm": acc.algorithm, "digits": 5 if acc.type == "steam" else acc.digits,
        "period": acc.period if acc.type != "hotp" else None,
        "counter": acc.counter if acc.type == "hotp" else None,
        "note": acc.note, "backup_policy": acc.backup_policy,
        "action_required": acc.action_required,
        "group": acc.group, "favorite": acc.favorite, "icon": chosen_icon(acc),
        "code": None, "next_code": None, "remaining": None,
    }
    if codes and not acc.action_required:
        window = otp.code_window(acc, now)
        view.update(code=window.code, next_code=window.next_code, remaining=window.remaining)
    return view


def codes_payload(accounts: list[Account], now: float | None = None,
                  groups: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The body of GET /api/codes: server time, every account's codes, and the groups."""
    now = time.time() if now is None else now
    return {"server_time": now, "accounts": [account_view(a, now) for a in accounts],
            "groups": groups_view(groups or [])}


def skipped_json(items: list[Skipped]) -> list[dict[str, Any]]:
    """Skipped accounts as the API shows them, reasons translated."""
    out = []
    for s in items:
        reason = gettext(s.reason)
        if s.params:
            reason = reason % s.params
        out.append({"issuer": s.issuer, "name": s.name, "code": s.code, "reason": reason})
    return out


def added_json(added: list[Account], skipped: list[Skipped]) -> tuple[dict[str, Any], int]:
    """The answer to adding accounts: what was added (with codes) and skipped; 201 if any was added."""
    now = time.time()
    return ({"added": [account_view(a, now) for a in added], "skipped": skipped_json(skipped),
             "server_time": now}, 201 if added else 200)


# --- devices and passkeys ---------------------------------------------------------------------

def device_json(device: registry.Device | None) -> dict[str, Any] | None:
    """A device as the API shows it."""
    if device is None:
        return None
    return {"id": device.id, "name": device.name, "created_at": device.created_at,
            "last_used_at": device.last_used_at}


def passkey_json(pk: passkeys.Passkey) -> dict[str, Any]:
    """A passkey as the API shows it (never its key material)."""
    return {"id": pk.id, "name": pk.name, "created_at": pk.created_at, "last_used_at": pk.last_used_at,
            "unlock_mode": pk.unlock_mode, "synced": pk.device_type == "multi_device" or pk.backed_up}


def devices_json(conn: sqlite3.Connection, this_device: str) -> list[dict[str, Any]]:
    """Every device with its passkey count, account count and whether it is this one."""
    out = []
    for d in registry.list_devices(conn):
        item = device_json(d) or {}
        item.update(this_device=d.id == this_device, passkeys=passkeys.count_passkeys(conn, d.id),
                    account_count=registry.account_count(conn, d.id),
                    unlock_mode=passkeys.unlock_summary(conn, d.id))
        out.append(item)
    return out


def removed_json(conn: sqlite3.Connection, d: registry.Device) -> dict[str, Any]:
    """A removed device as the API shows it: when it was removed and until when it can be restored."""
    return {"id": d.id, "name": d.name, "removed_at": d.removed_at, "recoverable_until": d.recoverable_until,
            "account_count": registry.account_count(conn, d.id)}


def events_json(conn: sqlite3.Connection, limit: int = EVENT_LIMIT) -> list[dict[str, Any]]:
    """The latest security events, newest first, with the device's name where it still exists."""
    names = {d.id: d.name for d in registry.list_devices(conn, removed=True)}
    return [{"at": e.at, "device_id": e.device_id, "device_name": names.get(e.device_id or ""),
             "kind": e.kind, "detail": e.detail, "client": e.client} for e in audit.recent(conn, limit)]
