"""Pages for moving in and moving out: Settings > Import, Export, Send to another device, and the inbox.

The pages are thin: static/transfer.js drives them through the JSON API (authvault.web.transfer_api).
A device that has accounts waiting for it is taken to the inbox once per unlock, the first time it
opens its account list, so what arrived is seen "the next time it unlocks".
"""
from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required

from ..interop import importers
from ..model import Account
from ..vault import store as accts
from . import context
from .session import mark_inbox_shown
from .views import account_view

bp = Blueprint("transfer_pages", __name__)


def _accounts() -> list[Account]:
    return context.unlocked_accounts()


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
    mark_inbox_shown()
    return render_template("sending/inbox.html")


@bp.get("/accounts/<account_id>/qr")
@login_required
def account_qr_page(account_id: str) -> ResponseReturnValue:
    """One account's QR code, shown after the passphrase again (to move it to another app or phone)."""
    acc = accts.find(_accounts(), account_id)
    return render_template("moving/account_qr.html", account=account_view(acc), label=accts.label_of(acc))
