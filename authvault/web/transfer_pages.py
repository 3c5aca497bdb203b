"""Pages for moving in and moving out: Settings > Import, Export, Send to another device, and the inbox.

The pages are thin: static/transfer.js drives them through the JSON API (authvault.web.transfer_api).
A device that has accounts waiting for it is taken to the inbox once per unlock, the first time it
opens its account list, so what arrived is seen "the next time it unlocks".
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..devices import sending
from ..interop import importers
from ..model import Account
from ..vault import store as accts
from . import context
from .views import account_view

bp = Blueprint("transfer_pages", __name__)

INBOX_SHOWN_KEY = "transfer_inbox_shown"


def _accounts() -> list[Account]:
    return accts.load_accounts(context.db(), current_user.device.id, current_user.master_key)


@bp.get("/import")
@login_required
def import_page() -> ResponseReturnValue:
    """Settings > Import: choose a file, password if asked, preview, confirm."""
    formats = sorted(((imp.name, imp.label) for imp in importers.IMPORTERS), key=lambda f: f[1].lower())
    return render_template("moving/import.html", formats=formats)


@bp.get("/export")
@login_required
def export_page() -> ResponseReturnValue:
    """Settings > Export: choose a format, re-enter the passphrase, download or show QR codes."""
    return render_template("moving/export.html", count=len(_accounts()))


@bp.get("/send")
@login_required
def send_page() -> ResponseReturnValue:
    """Send accounts to another of this person's devices."""
    views = [account_view(a) for a in _accounts()]
    return render_template("sending/send.html", accounts=views)


@bp.get("/inbox")
@login_required
def inbox_page() -> ResponseReturnValue:
    """Accounts other devices sent to this one: keep or decline each."""
    session[INBOX_SHOWN_KEY] = session.get(context.SESSION_TOKEN, "")[:16]
    return render_template("sending/inbox.html")


@bp.get("/accounts/<account_id>/qr")
@login_required
def account_qr_page(account_id: str) -> ResponseReturnValue:
    """One account's QR code, shown after the passphrase again (to move it to another app or phone)."""
    acc = accts.find(_accounts(), account_id)
    return render_template("moving/account_qr.html", account=account_view(acc), label=accts.label_of(acc))


@bp.app_context_processor
def _incoming() -> dict[str, Any]:
    """`incoming_transfers`: (transfers, accounts) waiting for this device, and `incoming_senders`
    (their devices' names), for templates/_transfer_banner.html and the settings page."""
    if not current_user.is_authenticated:
        return {"incoming_transfers": (0, 0), "incoming_senders": ""}
    conn = context.db()
    counts = sending.incoming_count(conn, current_user.device.id)
    senders = ""
    if counts[0]:
        senders = ", ".join(sending.incoming_senders(conn, current_user.device.id))
    return {"incoming_transfers": counts, "incoming_senders": senders}


@bp.before_app_request
def _show_inbox_after_unlock() -> ResponseReturnValue | None:
    """The first time the list opens in an unlock session with accounts waiting, show them first."""
    if request.method != "GET" or request.endpoint != "pages.index" or not current_user.is_authenticated:
        return None
    mark = session.get(context.SESSION_TOKEN, "")[:16]
    if session.get(INBOX_SHOWN_KEY) == mark:
        return None
    if sending.incoming_count(context.db(), current_user.device.id)[0] == 0:
        return None
    session[INBOX_SHOWN_KEY] = mark
    return redirect(url_for("transfer_pages.inbox_page"))
