"""Issue 13's story over HTTP: an iPhone and an iPad of one AuthVault server on one folder backup
account, the iPad takes the backup over, and the iPhone (the displaced device) finds its way on.

Every step is what the pages send; the browser walk is tests/browser/test_backup_story_e2e.py.
"""
from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSPHRASE, Api

FAKE_KEY = "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH-IIII-JJJJ-KKKK-LLLL-MMMM"


def secret_for(label: str) -> str:
    return base64.b32encode(hashlib.sha1(label.encode()).digest()).decode().rstrip("=")


def add(api: Api, issuer: str, *, secret: str | None = None, name: str = "me") -> dict[str, Any]:
    resp = api.post("/api/accounts", {"issuer": issuer, "name": name, "secret": secret or secret_for(issuer)})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["added"][0]


def count(api: Api) -> int:
    return len(api.get("/api/codes").get_json()["accounts"])


def enroll(app: Any, phone: Api, name: str) -> Api:
    """A second device of the same server, added from the phone's add-a-device link."""
    link = phone.post("/api/devices/enroll").get_json()
    other = Api(app.test_client())
    resp = other.post("/api/enroll", {"token": link["token"], "device_name": name, "passphrase": PASSPHRASE + "!"})
    assert resp.status_code in (200, 201), resp.get_json()
    other.refresh()
    return other


@pytest.fixture
def folder(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "nas"
    path.mkdir()
    return {"kind": "folder", "path": str(path)}


@pytest.fixture
def iphone(unlocked: Api) -> Api:
    return unlocked  # set up as "iPhone"


@pytest.fixture
def ipad(app: Any, iphone: Api) -> Api:
    return enroll(app, iphone, "iPad")


def enable(api: Api, folder: dict[str, Any] | None, resolution: str | None = None, **extra: Any):  # type: ignore[no-untyped-def]
    body: dict[str, Any] = {"target": folder, "resolution": resolution, **extra}
    return api.post("/api/backup/enable", body)


def test_the_displaced_iphone_sees_the_ipad_as_it_is_now_and_a_stale_merge_keeps_its_key(
        iphone: Api, ipad: Api, folder: dict[str, Any]) -> None:
    for issuer in ("GitHub", "Google", "Slack"):
        add(iphone, issuer)
    first = enable(iphone, folder).get_json()
    assert first["recovery_key_new"] is True and first["key_origin"]["device_name"] == "iPhone"

    add(ipad, "Dropbox")
    taken = enable(ipad, folder)
    assert taken.status_code == 409
    holder = taken.get_json()["error"]["holder"]
    assert holder["device_name"] == "iPhone" and holder["generation"] == 1
    # the key that opens this backup is printed on the iPhone's sheet, made at its first enable
    assert holder["key_origin"]["device_name"] == "iPhone"
    assert holder["key_origin"]["created_at"] == first["key_origin"]["created_at"]

    replaced = enable(ipad, folder, "replace", expected_generation=1)
    assert replaced.status_code == 200, replaced.get_json()
    ipad_key = replaced.get_json()["recovery_key"]
    assert replaced.get_json()["recovery_key_new"] is True
    assert replaced.get_json()["key_origin"]["device_name"] == "iPad"
    assert replaced.get_json()["displaced"]["device_name"] == "iPhone"

    seen = iphone.get("/api/backup?check=1").get_json()
    assert seen["state"] == "replaced" and seen["holder"]["generation"] == 2

    add(ipad, "Notion")   # generation 3
    add(ipad, "Figma")    # generation 4
    # The iPhone's page opens again: the holder is read fresh from the backup account.
    seen = iphone.get("/api/backup?check=1").get_json()
    assert seen["state"] == "replaced"
    assert seen["holder"]["generation"] == 4 and seen["holder"]["count"] == 3
    assert seen["holder"]["key_origin"]["device_name"] == "iPad"

    # A Merge sent from a screen that still showed generation 2 is refused with the backup as it is
    # now, and says what changed; nothing was written.
    stale = enable(iphone, None, "merge", recovery_key=ipad_key, expected_generation=2)
    assert stale.status_code == 409
    err = stale.get_json()["error"]
    assert err["code"] == "backup_taken" and err["holder"]["generation"] == 4
    assert err["expected_generation"] == 2  # what the screen showed
    assert err["holder"]["key_origin"]["device_name"] == "iPad"
    assert count(iphone) == 3

    merged = enable(iphone, None, "merge", recovery_key=ipad_key, expected_generation=4)
    assert merged.status_code == 200, merged.get_json()
    body = merged.get_json()
    assert body["recovery_key_new"] is False and "recovery_key" not in body
    assert body["key_origin"]["device_name"] == "iPad"  # the iPad's sheet still opens it
    assert count(iphone) == 6 and body["count"] == 6
    assert sorted(a["issuer"] for a in body["added"]) == ["Dropbox", "Figma", "Notion"]

    # The iPad is told the iPhone took over, and its own sheet is the one that opens the backup.
    on_ipad = ipad.get("/api/backup?check=1").get_json()
    assert on_ipad["state"] == "replaced" and on_ipad["holder"]["device_name"] == "iPhone"
    assert on_ipad["holder"]["key_origin"]["device_name"] == "iPad"


def test_after_the_ipads_merge_the_iphone_is_asked_for_its_own_sheet(
        iphone: Api, ipad: Api, folder: dict[str, Any]) -> None:
    add(iphone, "GitHub")
    first = enable(iphone, folder).get_json()
    add(ipad, "Dropbox")
    merged = enable(ipad, folder, "merge", recovery_key=first["recovery_key"], expected_generation=1)
    assert merged.status_code == 200, merged.get_json()
    assert merged.get_json()["recovery_key_new"] is False
    assert "recovery_key" not in merged.get_json()
    seen = iphone.get("/api/backup?check=1").get_json()
    assert seen["state"] == "replaced" and seen["holder"]["device_name"] == "iPad"
    origin = seen["holder"]["key_origin"]
    assert origin["device_name"] == "iPhone" and origin["created_at"] == first["key_origin"]["created_at"]
    # and that key does open it
    again = enable(iphone, None, "merge", recovery_key=first["recovery_key"], expected_generation=2)
    assert again.status_code == 200, again.get_json()


def test_a_merge_counts_what_the_device_holds_when_an_account_was_renamed_on_one_device(
        iphone: Api, ipad: Api, folder: dict[str, Any]) -> None:
    """The 62 vs 61 of the issue. The backup's merge called two accounts the same when type,
    secret, issuer and name matched; the device's merge when type and secret match. An account
    renamed on one device (same secret) was kept twice in the merged backup and once on the
    device; when the merge added nothing else to the device, no push followed, and the backup
    said one account more than the device listed."""
    for issuer in ("GitHub", "Google", "Slack"):
        add(iphone, issuer)
    first = enable(iphone, folder).get_json()
    for issuer in ("GitHub", "Slack"):
        add(ipad, issuer)
    add(ipad, "Google (work)", secret=secret_for("Google"))  # the same account, renamed here
    merged = enable(ipad, folder, "merge", recovery_key=first["recovery_key"], expected_generation=1)
    assert merged.status_code == 200, merged.get_json()
    assert merged.get_json()["added"] == []
    assert count(ipad) == 3
    assert merged.get_json()["count"] == 3
    assert ipad.get("/api/backup").get_json()["count"] == 3
    readable = json.loads((Path(folder["path"]) / "authvault-backup.json").read_text())
    assert readable["count"] == 3


def test_restore_that_adds_nothing_says_so_in_words(iphone: Api, ipad: Api, folder: dict[str, Any]) -> None:
    add(iphone, "GitHub")
    key = enable(iphone, folder).get_json()["recovery_key"]
    add(ipad, "GitHub")
    resp = enable(ipad, folder, "restore", recovery_key=key, expected_generation=1)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["restored"] == [] and body["already_here"] == 1 and body["action_required"] == 0


@pytest.mark.parametrize("status, count, now, reason", [
    ({"state": "off"}, 0, 0, None),
    ({"state": "off"}, 3, 0, "never"),
    ({"state": "on", "last_backup_at": "x"}, 3, 0, None),
    ({"state": "unreachable", "last_backup_at": "x", "failing_since": 1000.0}, 3, 1000.0 + 23 * 3600, None),
    ({"state": "unreachable", "last_backup_at": "x", "failing_since": 1000.0}, 3, 1000.0 + 25 * 3600, "failing"),
    ({"state": "error", "last_backup_at": "x", "failed_at": 1000.0}, 3, 1000.0 + 25 * 3600, "failing"),
    ({"state": "replaced", "holder": {"device_name": "iPad"}}, 3, 0, "taken"),
    ({"state": "tampered"}, 3, 0, "attention"),
    ({"state": "rolled-back"}, 3, 0, "attention"),
])
def test_health_marks_never_made_taken_over_and_failing_for_a_day(
        status: dict[str, Any], count: int, now: float, reason: str | None) -> None:
    from authvault.backup.device import Status, health
    assert health(Status.from_json(status), account_count=count, now=now).reason == reason


def shown_mark(api: Api, path: str, **kw: Any) -> str | None:
    """The text of the backup mark on a page, or None when it is not shown."""
    import re
    page = api.get(path, **kw).get_data(as_text=True)
    found = re.search(r'<a class="health-mark[^"]*" id="backup-mark"([^>]*)>(.*?)</a>', page, re.S)
    if found is None or re.search(r"\shidden(\s|$)", found.group(1).split(" data-")[0] + " "):
        return None
    assert 'href="/backup#status-card"' in found.group(0)
    return re.sub(r"<[^>]+>|\s+", " ", found.group(2)).strip()


def test_the_list_and_settings_mark_a_backup_taken_over_with_one_tap_to_the_backup_page(
        iphone: Api, ipad: Api, folder: dict[str, Any]) -> None:
    assert shown_mark(iphone, "/") is None  # nothing to back up
    add(iphone, "GitHub")
    assert shown_mark(iphone, "/") == "Not backed up"
    enable(iphone, folder)
    assert shown_mark(iphone, "/") is None and shown_mark(iphone, "/settings") is None
    enable(ipad, folder, "replace", expected_generation=1)
    add(iphone, "GitLab")  # its next backup finds the iPad there
    for path in ("/", "/settings"):
        assert shown_mark(iphone, path) == "Backup taken over by iPad", path
    assert shown_mark(iphone, "/settings", headers={"Accept-Language": "ja"}) == "iPadがバックアップを引き継ぎました"
    health = iphone.get("/api/backup").get_json()["health"]
    assert health["ok"] is False and health["reason"] == "taken" and health["device_name"] == "iPad"
