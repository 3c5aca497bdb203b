"""Server-rendered pages: the account list (codes in the first response), setup, unlock, add, edit, settings."""
from __future__ import annotations

import time

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from ..vault import store as accts
from . import context
from .api import session_state
from .views import account_view, group_code

bp = Blueprint("pages", __name__)


@bp.app_template_filter("grouped")
def _grouped(code: str | None) -> str:
    return group_code(code)


@bp.app_context_processor
def _inject() -> dict:
    from . import select_locale
    unlocked = current_user.is_authenticated
    return {"lang": select_locale(), "current_device": context.current_device(), "is_unlocked": unlocked,
            "idle_lock_seconds": int(context.lock_seconds(current_user.device.id)) if unlocked else 0}


def _name_html(name: str) -> Markup:
    """The account name for the list, escaped; a long e-mail address may break before its @
    (<wbr>), not in the middle of a word. Short names cannot wrap and are left as they are."""
    html = escape(name)
    return Markup(html.replace("@", Markup("<wbr>@"))) if len(name) > 20 and "@" in name else html


@bp.get("/")
def index() -> ResponseReturnValue:
    """The account list when unlocked; otherwise unlock or setup."""
    state = session_state()
    if state == "setup":
        return render_template("unlock/setup_wait.html")
    if state == "locked":
        return render_template("unlock/unlock.html")
    now = time.time()
    views = [account_view(a, now) for a in accts.load_accounts(context.db(), current_user.device.id,
                                                                current_user.master_key)]
    # The page's clock needs only these fields (the rest is in the HTML already).
    clock = [{k: v[k] for k in ("id", "type", "period", "code", "next_code", "action_required")} for v in views]
    for v in views:
        v["name_html"] = _name_html(v["name"])
    return render_template("accounts/list.html", accounts=views, clock=clock, server_time=now,
                           lock_seconds=context.lock_seconds(current_user.device.id))


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
    accounts = accts.load_accounts(context.db(), current_user.device.id, current_user.master_key)
    acc = accts.find(accounts, account_id)
    return render_template("accounts/edit.html", account=account_view(acc), label=accts.label_of(acc))


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
