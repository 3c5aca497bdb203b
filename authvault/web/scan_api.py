"""Scanning live with the camera (issue 14, item 5): POST /api/accounts/scan-frame.

The add page's viewfinder sends what it sees, one request at a time: either a downscaled frame
(multipart `file`, a JPEG of at most 640 px a side, decoded here with zxing-cpp, which every
browser can use, iOS Safari included), or, where the browser has the BarcodeDetector API, the text
it read (`text`). No code in view is a normal answer (`{"found": false}`), not an error: the page
just sends the next frame. A code that holds an account is added at once; a Google Authenticator
export batch answers its place (`batch: {id, index, size}`), and batches the page says it has
read (`read`: "ID:INDEX,...") are not added twice while the same code stays in front of the camera.
"""
from __future__ import annotations

import re

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import login_required

from .. import qr, scanning
from ..errors import N_
from . import context
from .http import ApiError
from .views import added_json

bp = Blueprint("scan_api", __name__, url_prefix="/api")

MAX_FRAME_BYTES = 1024 * 1024  # a 640 px JPEG is 20-60 KB; a 1 MiB frame is a mistake
MAX_TEXT = 8192  # a version-40 QR code holds at most 7089 characters
_READ = re.compile(r"\d{1,10}:\d{1,4}")


def _read_batches(raw: str | None) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    for token in (raw or "").split(",")[:200]:
        token = token.strip()
        if _READ.fullmatch(token):
            batch_id, index = token.split(":")
            out.add((int(batch_id), int(index)))
    return out


def _texts() -> list[str] | None:
    """What the frame or the browser's detector holds; None when no QR code is in view."""
    text = request.form.get("text")
    if text is not None:
        if len(text) > MAX_TEXT:
            raise ApiError(400, "field_too_long", N_("%(field)s can be at most %(max)s characters."),
                           field="text", max=MAX_TEXT)
        return [text] if text.strip() else None
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(400, "frame_required", N_("Send a camera frame (file) or the text of a QR code (text)."))
    data = upload.stream.read(MAX_FRAME_BYTES + 1)
    if len(data) > MAX_FRAME_BYTES:
        raise ApiError(413, "frame_too_large", N_("This camera frame is too large (1 MiB at most): send it "
                                                  "downscaled, or choose the image instead."))
    if not data:
        return None
    try:
        return qr.decode_image(data)
    except qr.QrError as err:
        if err.code == "no_qr_code":
            return None
        raise


@bp.post("/accounts/scan-frame")
@login_required
def scan_frame() -> ResponseReturnValue:
    """Read one camera frame (or the text a browser's detector read) and add what it holds."""
    texts = _texts()
    if not texts:
        return jsonify({"found": False})
    found = scanning.read_codes(texts, already_read=_read_batches(request.form.get("read")))
    if not found.accounts and found.refused:
        raise found.refused[0]  # the code in view is no account: the page says why and keeps looking
    b = found.batch
    batch = {"id": b.id, "index": b.index, "size": b.size} if b is not None else None
    if not found.accounts and batch is not None:
        return jsonify({"found": True, "already_read": True, "batch": batch, "added": [], "skipped": []})
    added, dupes = context.device_backup().add(found.accounts, client=context.client_address())
    answer, status = added_json(added, found.skipped + dupes)
    answer.update(found=True, batch=batch)
    return jsonify(answer), status
