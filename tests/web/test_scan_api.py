"""POST /api/accounts/scan-frame (issue 14, item 5): the live viewfinder's frames and texts."""
from __future__ import annotations

import io

import qrcode
from PIL import Image

from authvault.interop.google_migration import build_migration_uris
from authvault.model import Account
from tests.conftest import Api

URI = "otpauth://totp/CameraBank:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=CameraBank"


def frame(text: str | None, fmt: str = "JPEG") -> bytes:
    image = Image.new("RGB", (640, 480), (150, 150, 150))
    if text:
        code = qrcode.make(text, border=2, box_size=4).convert("RGB")
        image.paste(code, (40, 20))
    buf = io.BytesIO()
    image.save(buf, fmt, quality=80)
    return buf.getvalue()


def post_frame(api: Api, data: bytes | None = None, **fields: str):  # type: ignore[no-untyped-def]
    form: dict = dict(fields)
    if data is not None:
        form["file"] = (io.BytesIO(data), "frame.jpg")
    return api.call("POST", "/api/accounts/scan-frame", data=form, content_type="multipart/form-data")


def issuers(api: Api) -> list[str]:
    return [a["issuer"] for a in api.get("/api/codes").get_json()["accounts"]]


def test_no_code_in_view_is_a_normal_answer(unlocked: Api) -> None:
    resp = post_frame(unlocked, frame(None))
    assert resp.status_code == 200 and resp.get_json() == {"found": False}
    assert post_frame(unlocked, text="").get_json() == {"found": False}
    assert issuers(unlocked) == []


def test_a_frame_with_a_code_adds_it(unlocked: Api) -> None:
    resp = post_frame(unlocked, frame(URI), read="")
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["found"] is True and body["batch"] is None
    assert [(a["issuer"], a["name"]) for a in body["added"]] == [("CameraBank", "alice@example.com")]
    # the same code again (still in view) is a duplicate, never a second account
    again = post_frame(unlocked, frame(URI)).get_json()
    assert again["added"] == [] and again["skipped"][0]["code"] == "duplicate"
    assert issuers(unlocked) == ["CameraBank"]


def test_the_text_a_browser_read_adds_it_too(unlocked: Api) -> None:
    resp = post_frame(unlocked, text=URI)
    assert resp.status_code == 201 and resp.get_json()["added"][0]["issuer"] == "CameraBank"


def test_export_batches_say_their_place_and_are_not_added_twice(unlocked: Api) -> None:
    accounts = [Account(secret=bytes([i + 1]) * 10, issuer=f"S{i:02d}", name="u") for i in range(15)]
    uris, _ = build_migration_uris(accounts)
    assert len(uris) == 2
    first = post_frame(unlocked, frame(uris[0])).get_json()
    batch = first["batch"]
    assert (batch["index"], batch["size"]) == (0, 2) and len(first["added"]) == 10
    read = f"{batch['id']}:0"
    again = post_frame(unlocked, frame(uris[0]), read=read)
    assert again.status_code == 200
    assert again.get_json() == {"found": True, "already_read": True, "batch": batch, "added": [], "skipped": []}
    second = post_frame(unlocked, text=uris[1], read=read).get_json()
    assert second["batch"]["index"] == 1 and len(second["added"]) == 5
    assert sorted(issuers(unlocked)) == [f"S{i:02d}" for i in range(15)]


def test_a_code_that_is_no_account_says_what_it_holds(unlocked: Api) -> None:
    resp = post_frame(unlocked, frame("https://example.com/menu"))
    assert resp.status_code == 400
    assert "web address" in resp.get_json()["error"]["message"]


def test_refusals(unlocked: Api) -> None:
    resp = post_frame(unlocked)
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "frame_required"
    resp = post_frame(unlocked, b"\xff\xd8" + b"0" * (1024 * 1024))
    assert resp.status_code == 413 and resp.get_json()["error"]["code"] == "frame_too_large"
    resp = post_frame(unlocked, b"not an image at all")
    assert resp.status_code == 400
    resp = post_frame(unlocked, text="x" * 9000)
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "field_too_long"
    unlocked.post("/api/lock")
    assert post_frame(unlocked, frame(URI)).status_code == 401
