"""Server-rendered pages: the account list (codes in the first response), setup, unlock, add, edit, settings."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..vault import store as accts
from . import context, list_rows
from .session import inbox_first, session_state
from .views import account_view, groups_view

bp = Blueprint("pages", __name__)


# Fields of an account view the list needs only when they differ from these (GET /api/codes
# always sends them all): the page embeds 1000 accounts in about 100 KiB before compression.
_LIST_DEFAULTS = {"note": "", "group": "", "favorite": False, "icon": None, "action_required": False,
                  "algorithm": "SHA1", "backup_policy": "backup", "counter": None, "remaining": None,
                  "period": None, "code": None, "next_code": None}


def list_payload(views: list[dict[str, Any]], groups: list[dict[str, str]], now: float) -> dict[str, Any]:
    """What the list page embeds for static/js/list.js: GET /api/codes's shape, defaults left out."""
    rows = [{k: v for k, v in view.items() if k not in _LIST_DEFAULTS or _LIST_DEFAULTS[k] != v} for view in views]
    return {"server_time": now, "accounts": rows, "groups": groups_view(groups)}


@bp.get("/")
def index() -> ResponseReturnValue:
    """The account list when unlocked; otherwise unlock or setup."""
    state = session_state()
    if state == "setup":
        return render_template("unlock/setup_wait.html")
    if state == "locked":
        return render_template("unlock/unlock.html")
    if inbox_first():  # accounts another device sent: seen first, once per unlock
        return redirect(url_for("transfer_pages.inbox_page"))
    accounts, groups = accts.load_library(context.db(), current_user.device.id, current_user.master_key)
    now = time.time()
    views = [account_view(acc, now) for acc in accounts]
    initial = list_payload(views, groups, now)
    initial["lock_seconds"] = context.lock_seconds(current_user.device.id)
    # The first screenful drawn here, when this browser's list options are known (list_rows.py);
    # not after adding (list.js marks and scrolls to the new accounts).
    prefs = list_rows.read_prefs(request.cookies.get(list_rows.COOKIE))
    first = list_rows.first_rows(views, prefs, list_rows.sprite_base(), now) if "added" not in request.args else ""
    return render_template("accounts/list.html", accounts=accounts, groups=groups, initial=initial,
                           prefs=prefs, first_rows=first,
                           hotp_pending=request.cookies.get(list_rows.HOTP_PENDING_COOKIE) == "1")


@bp.get("/setup")
def setup() -> ResponseReturnValue:
    """The one-time setup form (from the address the server printed)."""
    if session_state() != "setup":
        return redirect(url_for("pages.index"))
    return render_template("unlock/setup.html", token=request.args.get("token", ""),
                           start="restore" if request.args.get("start") == "restore" else "new")


@bp.get("/add")
@login_required
def add() -> ResponseReturnValue:
    """Add accounts: upload a QR image, paste a URI, or type the fields."""
    return render_template("accounts/add.html")


@bp.get("/accounts/<account_id>")
@login_required
def edit(account_id: str) -> ResponseReturnValue:
    """Edit one account: issuer, label, note, keep on this device only; delete."""
    accounts, groups = accts.load_library(context.db(), current_user.device.id, current_user.master_key)
    acc = accts.find(accounts, account_id)
    return render_template("accounts/edit.html", account=account_view(acc), label=accts.label_of(acc),
                           groups=groups, icon_choices=icon_choices())


def icon_choices() -> list[tuple[str, str]]:
    """The bundled icons a person can pick (slug, title), by title; none if the set is missing."""
    path = Path(current_app.static_folder or "") / "vendor" / "simple-icons" / "icons.json"
    try:
        icons = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return sorted(((slug, str(v.get("title", slug))) for slug, v in icons.items()), key=lambda x: x[1].casefold())


@bp.get("/settings")
@login_required
def settings() -> ResponseReturnValue:
    """This device's settings."""
    return render_template("devices/settings.html", lock_minutes=int(context.lock_seconds(current_user.device.id) // 60),
                           chosen_language=request.cookies.get("authvault_lang", "auto"))


@bp.get("/backup")
@login_required
def backup() -> ResponseReturnValue:
    """Settings > Backup: state, turn on (with the conflict choices), versions, turn off."""
    return render_template("backup/backup.html")


@bp.get("/backup/restore")
@login_required
def restore() -> ResponseReturnValue:
    """Restore a backup onto this device (shows whose backup it is before writing anything);
    `?first=1` when setup sent a new device here, the second step of "Restore from a backup"."""
    return render_template("backup/restore.html", first=request.args.get("first") == "1")
