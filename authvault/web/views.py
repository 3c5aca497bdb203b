"""How accounts are shown: the JSON and template view of an account with its codes."""
from __future__ import annotations

import time
from typing import Any

from flask_babel import gettext

from .. import otp
from ..model import Account, Skipped


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
