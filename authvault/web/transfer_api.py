"""Moving in and moving out (issue 5): import files, export files and QR codes, send to own devices.

Thin handlers over `authvault.interop.importers`, `authvault.interop.export` and
`authvault.devices.sending`:
- `POST /api/import`: multipart `file`, optional `password` and `format`; answers a preview
  (what would be added, what is skipped and why) and writes nothing unless `confirm` is true.
- `POST /api/export`: after re-authenticating with the device's passphrase; a download
  (encrypted or, with `i_understand_unencrypted`, plain) or Google transfer QR codes.
- `POST /api/accounts/<id>/qr`: one account's QR code (passphrase again); `GET` works for a
  couple of minutes after such a re-authentication.
- `/api/send*`: send accounts sealed to another of one's own devices; that device keeps or
  declines each when it is next unlocked.
Exported files are built in memory and sent; nothing of them is stored on the server.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user, login_required

from .. import audit, qr
from ..devices import registry, sending
from ..errors import N_
from ..interop import export as exporter
from ..interop import importers
from ..model import Account, Skipped
from ..otp import Note, to_uri
from ..vault import store as accts
from . import context
from .http import ApiError, body
from .session import recently_reauthenticated, require_reauth
from .views import account_view, skipped_json

log = logging.getLogger(__name__)
bp = Blueprint("transfer_api", __name__, url_prefix="/api")

TRUE_WORDS = ("1", "true", "yes", "on")


# --- helpers ------------------------------------------------------------------------------------

def _device_id() -> str:
    return current_user.device.id


def _audit(kind: str, detail: str = "") -> None:
    audit.record(context.db(), kind, device_id=_device_id(), detail=detail, client=context.client_address())


def _translated(reason: str, params: dict[str, Any] | None) -> str:
    text = gettext(reason)
    if params:
        try:
            return text % params
        except (KeyError, ValueError, TypeError):
            return reason % params
    return text


def _as_skipped(entries: list[Skipped]) -> list[Skipped]:
    return list(entries)


def _preview_notes(acc: Account, notes: list[Note]) -> list[str]:
    """What AuthVault recognised or guessed about one account, in words, for the preview."""
    texts = [_translated(n.message, n.params or None) for n in notes]
    if acc.type == "hotp":
        texts.append(_translated(N_("HOTP counter %(counter)s"), {"counter": acc.counter}))
    if acc.type == "totp" and acc.algorithm != "SHA1":
        texts.append(_translated(N_("Algorithm %(algorithm)s"), {"algorithm": acc.algorithm}))
    return texts


def _preview_item(acc: Account, completes: bool, notes: list[Note]) -> dict[str, Any]:
    """What the preview shows of an account that would be added: never its secret."""
    return {"issuer": acc.issuer, "name": acc.name, "type": acc.type, "algorithm": acc.algorithm,
            "digits": acc.digits, "period": acc.period if acc.type != "hotp" else None,
            "counter": acc.counter if acc.type == "hotp" else None,
            "notes": _preview_notes(acc, notes),
            "completes_action_required": completes}


def _format_label(name: str) -> str:
    try:
        return importers.get_importer(name).label
    except importers.ImporterError:
        return name


def require_passphrase(data: dict[str, Any]) -> None:
    """Re-authenticate before an export or a QR code (session.require_reauth)."""
    require_reauth(data, ApiError(401, "passphrase_required", N_("Enter this device's passphrase to continue.")))


def download(data: bytes, filename: str, mimetype: str) -> Response:
    """A file sent as a download that no cache keeps."""
    resp = current_app.response_class(data, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Pragma"] = "no-cache"
    return resp


def _dated(filename: str) -> str:
    stem, dot, ext = filename.rpartition(".")
    return f"{stem}-{time.strftime('%Y-%m-%d')}{dot}{ext}"


# --- import ---------------------------------------------------------------------------------------

@bp.post("/import")
@login_required
def import_file() -> ResponseReturnValue:
    """Preview (default) or, with `confirm`, add the accounts of another app's export file."""
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(400, "file_required", N_("Choose the export file of your other authenticator app."))
    data = upload.read(importers.MAX_FILE_BYTES + 1)
    if not data:
        raise ApiError(400, "empty_file", N_("That file is empty. Choose the export file again."))
    password = request.form.get("password") or None
    fmt = (request.form.get("format") or "").strip() or None
    if fmt == "auto":
        fmt = None
    confirm = (request.form.get("confirm") or "").strip().lower() in TRUE_WORDS
    result = importers.import_file(data, filename=upload.filename, password=password, format=fmt)
    file_skipped = _as_skipped(result.skipped)
    label = _format_label(result.format)

    if not confirm:
        existing = context.unlocked_accounts()
        ids = {a.id for a in existing}
        _, would_add, dupes = accts.merge_new(existing, result.accounts)
        return jsonify({"preview": True, "format": result.format, "format_label": label,
                        "add": [_preview_item(a, a.id in ids, result.notes_for(a)) for a in would_add],
                        "skipped": skipped_json(dupes + file_skipped),
                        "count": len(would_add)})

    added, dupes_at_write = context.device_backup().merge(result.accounts)
    _audit("import", f"{result.format}: {len(added)} added, {len(dupes_at_write) + len(file_skipped)} skipped")
    now = time.time()
    # No codes here: computing one per imported account was a quarter of a big import's time, and
    # the list fetches the codes it shows.
    return jsonify({"preview": False, "format": result.format, "format_label": label,
                    "added": [account_view(a, now, codes=False) for a in added],
                    "skipped": skipped_json(dupes_at_write + file_skipped),
                    "count": len(added), "server_time": now}), (201 if added else 200)


@bp.get("/import/formats")
@login_required
def import_formats() -> ResponseReturnValue:
    """The formats the import page may name (detection needs none of them)."""
    return jsonify({"formats": [{"name": imp.name, "label": imp.label}
                                for imp in sorted(importers.IMPORTERS, key=lambda i: i.label.lower())]})


# --- export ---------------------------------------------------------------------------------------

@bp.post("/export")
@login_required
def export() -> ResponseReturnValue:
    """Export every account: `aegis` (encrypted, default), `aegis-plain`, `uris`, `2fauth` or `google`."""
    data = body()
    fmt = data.get("format") or "aegis"
    if not isinstance(fmt, str) or fmt not in exporter.FORMATS:
        raise ApiError(400, "unknown_export_format", N_("Choose one of the export formats: %(formats)s."),
                       formats=", ".join(exporter.FORMATS))
    if fmt in exporter.UNENCRYPTED_FORMATS and data.get("i_understand_unencrypted") is not True:
        raise ApiError(400, "unencrypted_not_confirmed", N_(
            "This file is not encrypted: anyone who gets it can make your codes. Confirm that you "
            "understand (i_understand_unencrypted) to export it."))
    if fmt == "aegis":
        password = data.get("password")
        if not isinstance(password, str) or not password:
            raise ApiError(400, "password_required", N_("Choose a password for the encrypted export."))
        if len(password) > 1024:
            raise ApiError(400, "password_too_long", N_("That password is too long (1024 characters at most)."))
    require_passphrase(data)
    accounts = context.unlocked_accounts()
    if not accounts:
        raise ApiError(400, "nothing_to_export", N_("There are no accounts on this device to export."))
    if fmt == "google":
        uris, left_out = exporter.export_google(accounts)
        _audit("export", fmt)
        return jsonify({"uris": uris, "qr_svgs": [qr.make_qr_svg(u) for u in uris],
                        "count": len(accounts) - len(left_out), "batch_size": 10,
                        "not_exportable": [{"issuer": a.issuer, "name": a.name, "reason": gettext(reason)}
                                           for a, reason in left_out]})
    filename, mimetype = exporter.FORMATS[fmt]
    content = exporter.export_file(fmt, accounts, password=data.get("password"),
                                   params=context.scrypt_params())
    _audit("export", fmt)
    resp = download(content, _dated(filename), mimetype)
    _, left_out = exporter.exportable(accounts)
    resp.headers["X-AuthVault-Not-Exported"] = str(len(left_out))
    return resp


def _account_qr(account_id: str) -> tuple[Account, str]:
    acc = accts.find(context.unlocked_accounts(), account_id)
    if acc.action_required or not acc.secret:
        raise ApiError(409, "action_required", N_("This account needs a new QR code from its service first."))
    svg = qr.make_qr_svg(to_uri(acc))  # before the audit event: a code too long to draw is not shown
    _audit("account_qr_shown")
    return acc, svg


@bp.post("/accounts/<account_id>/qr")
@login_required
def account_qr(account_id: str) -> ResponseReturnValue:
    """One account's QR code (its otpauth URI), after the passphrase again: {"svg", "label"}."""
    require_passphrase(body())
    acc, svg = _account_qr(account_id)
    return jsonify({"svg": svg, "label": accts.label_of(acc), "issuer": acc.issuer, "name": acc.name})


@bp.get("/accounts/<account_id>/qr")
@login_required
def account_qr_svg(account_id: str) -> ResponseReturnValue:
    """The same QR code as an SVG image, within a minute of re-entering the passphrase."""
    if not recently_reauthenticated(_device_id()):
        raise ApiError(401, "reauth_required", N_("Enter this device's passphrase again to show a QR code."))
    _, svg = _account_qr(account_id)
    return current_app.response_class(svg, mimetype="image/svg+xml",
                                      headers={"Cache-Control": "no-store"})


# --- send to another own device -------------------------------------------------------------------

def _my_key() -> sending.KeyPair:
    return sending.ensure_device_key(context.db(), _device_id(), current_user.master_key)


@bp.get("/send/devices")
@login_required
def send_devices() -> ResponseReturnValue:
    """The other devices, and whether each can receive (it has been unlocked since sending arrived)."""
    conn = context.db()
    _my_key()
    me = _device_id()
    out = []
    for d in registry.list_devices(conn):
        if d.id == me:
            continue
        out.append({"id": d.id, "name": d.name, "last_used_at": d.last_used_at,
                    "can_receive": sending.public_key(conn, d.id) is not None})
    return jsonify({"devices": out})


@bp.post("/send")
@login_required
def send() -> ResponseReturnValue:
    """Seal accounts to another of this person's devices: {"device_id", "account_ids": [...]}."""
    data = body()
    device_id = data.get("device_id")
    ids = data.get("account_ids")
    if not isinstance(device_id, str) or not device_id:
        raise ApiError(400, "device_required", N_("Choose the device to send to."))
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "nothing_to_send", N_("Choose at least one account to send."))
    conn = context.db()
    receiver = registry.get_device(conn, device_id)
    if receiver is None:
        raise ApiError(404, "device_not_found", N_("That device is not enrolled (it may have been removed)."))
    _my_key()
    mine = context.unlocked_accounts()
    chosen: list[Account] = []
    for account_id in dict.fromkeys(ids):
        acc = accts.find(mine, account_id)
        if acc.action_required or not acc.secret:
            raise ApiError(409, "action_required_account", N_(
                "%(label)s needs a new QR code from its service first, so it cannot be sent."),
                label=accts.label_of(acc))
        chosen.append(acc)
    me = current_user.device
    transfer = sending.send_accounts(conn, sender_id=me.id, sender_name=me.name, receiver_id=receiver.id,
                                     accounts=chosen)
    audit.record(conn, "transfer_sent", device_id=me.id, detail=f"{len(chosen)} to {receiver.name}",
                 client=context.client_address())
    return jsonify({"transfer": {"id": transfer.id, "to": {"id": receiver.id, "name": receiver.name},
                                 "count": transfer.count, "created_at": transfer.created_at}}), 201


@bp.get("/send")
@login_required
def sent() -> ResponseReturnValue:
    """Transfers this device sent that the receiver has not opened yet."""
    conn = context.db()
    names = {d.id: d.name for d in registry.list_devices(conn)}
    return jsonify({"transfers": [{"id": t.id, "to": {"id": t.receiver_id, "name": names.get(t.receiver_id, "")},
                                   "count": t.count, "created_at": t.created_at}
                                  for t in sending.outgoing(conn, _device_id())]})


@bp.delete("/send/<transfer_id>")
@login_required
def cancel(transfer_id: str) -> ResponseReturnValue:
    """Take back a transfer this device sent that was not opened yet."""
    sending.cancel(context.db(), transfer_id, _device_id(), client=context.client_address())
    return jsonify({"deleted": transfer_id})


def _inbox_item(t: sending.Transfer, private: bytes, existing: list[Account]) -> dict[str, Any]:
    item: dict[str, Any] = {"id": t.id, "from": {"id": t.sender_id, "name": t.sender_name},
                            "count": t.count, "created_at": t.created_at}
    try:
        arrived = sending.open_transfer(t, private)
    except sending.TransferError as err:
        item.update(accounts=[], error={"code": err.code, "message": gettext(err.message)})
        return item
    result = list(existing)
    views = []
    for index, acc in enumerate(arrived):
        _, added, _ = accts.merge_new(result, [acc])
        views.append({"index": index, "issuer": acc.issuer, "name": acc.name, "type": acc.type,
                      "already_here": not added})
    item["accounts"] = views
    return item


@bp.get("/send/inbox")
@login_required
def inbox() -> ResponseReturnValue:
    """What other devices sent to this one, opened here (the server cannot read it)."""
    conn = context.db()
    pair = _my_key()
    existing = context.unlocked_accounts()
    return jsonify({"transfers": [_inbox_item(t, pair.private, existing)
                                  for t in sending.incoming(conn, _device_id())]})


@bp.post("/send/inbox/<transfer_id>")
@login_required
def receive(transfer_id: str) -> ResponseReturnValue:
    """Keep the chosen accounts of a transfer ({"keep": [indexes]}); the rest are declined; the transfer is deleted."""
    data = body()
    keep = data.get("keep")
    if not isinstance(keep, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in keep):
        raise ApiError(400, "keep_required", N_("Send keep: the list of the accounts to keep (their index)."))
    kept = sending.keep(context.db(), transfer_id, _device_id(), _my_key().private, keep,
                        change=context.device_backup().change, client=context.client_address())
    now = time.time()
    return jsonify({"added": [account_view(a, now) for a in kept.added], "skipped": skipped_json(kept.skipped),
                    "declined": kept.declined}), (201 if kept.added else 200)


@bp.delete("/send/inbox/<transfer_id>")
@login_required
def decline(transfer_id: str) -> ResponseReturnValue:
    """Decline every account of a transfer (it is deleted unopened)."""
    t = sending.decline(context.db(), transfer_id, _device_id(), client=context.client_address())
    return jsonify({"deleted": transfer_id, "declined": t.count})
