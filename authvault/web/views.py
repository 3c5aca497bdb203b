"""How accounts are shown: the JSON and template view of an account with its codes."""
from __future__ import annotations

import time
from typing import Any

from .. import otp
from ..otp import Account


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


def account_view(acc: Account, now: float | None = None) -> dict[str, Any]:
    """What the list and the API show of one account: never its secret."""
    now = time.time() if now is None else now
    view: dict[str, Any] = {
        "id": acc.id, "issuer": acc.issuer, "name": acc.name, "type": acc.type,
        "algorithm": acc.algorithm, "digits": 5 if acc.type == "steam" else acc.digits,
        "period": acc.period if acc.type != "hotp" else None,
        "counter": acc.counter if acc.type == "hotp" else None,
        "note": acc.note, "backup_policy": acc.backup_policy,
        "action_required": acc.action_required,
        "code": None, "next_code": None, "remaining": None,
    }
    if not acc.action_required:
        window = otp.code_window(acc, now)
        view.update(code=window.code, next_code=window.next_code, remaining=window.remaining)
    return view


def codes_payload(accounts: list[Account], now: float | None = None) -> dict[str, Any]:
    """The body of GET /api/codes: server time and every account's codes."""
    now = time.time() if now is None else now
    return {"server_time": now, "accounts": [account_view(a, now) for a in accounts]}
