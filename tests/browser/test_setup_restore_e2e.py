"""Setup offers "Restore from a backup": a new phone on a new server gets its accounts back, as a
person does it, through the pages.

An old phone on one server backs up to a real backup account (a folder, and a real wsgidav WebDAV
server on 127.0.0.1). A second, fresh server is then set up from its setup page: the person
chooses "Restore from a backup", names the device, chooses its passphrase, and lands on the
restore step, sees whose backup it is, enters the recovery key, and sees the codes, which are
checked against codes computed here from the secrets (a known answer, not a round trip).
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyotp
import pytest

from .conftest import PASSPHRASE, SETUP_TOKEN, new_device, setup_device
from .gunicorn_server import GunicornServer

ACCOUNTS = {"GitHub": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "Google": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"}


def skip_passkey(page: Any) -> None:
    """After setup, the page offers a passkey (http://localhost can use them): not now."""
    page.wait_for_selector("#passkey-step:not([hidden])")
    page.click("#passkey-skip-btn")


@pytest.mark.parametrize("kind", ["folder", "webdav"])
def test_new_device_restores_a_backup_from_the_setup_page(browser: Any, server_factory: Callable[..., GunicornServer],
                                                          tmp_path: Path, screenshot_dir: Path, kind: str,
                                                          request: pytest.FixtureRequest) -> None:
    if kind == "folder":
        folder = tmp_path / "nas"
        folder.mkdir()
        target: dict[str, Any] = {"kind": "folder", "path": str(folder)}
    else:
        target = request.getfixturevalue("wsgidav_server").target()

    # The old phone, on the old server: two accounts, backed up; the recovery key written down.
    old_server = server_factory()
    old = new_device(browser, old_server.origin)
    setup_device(old, old_server, name="Old iPhone")
    for issuer, secret in ACCOUNTS.items():
        old.api("POST", "/api/accounts", {"issuer": issuer, "name": "me", "secret": secret})
    recovery_key = old.api("POST", "/api/backup/enable", {"target": target})["recovery_key"]
    old.close()

    # The new phone, on a new server: the setup page, "Restore from a backup".
    new_server = server_factory()
    phone = new_device(browser, new_server.origin)
    try:
        page = phone.page
        phone.goto(f"/setup?token={SETUP_TOKEN}")
        submit = page.locator("#setup-form button[type=submit]")
        assert submit.inner_text() == "Create my vault"
        page.check("input[name=start][value=restore]")
        assert submit.inner_text() == "Next: choose the backup"
        page.fill("#device_name", "New iPhone")
        page.fill("#passphrase", PASSPHRASE + " new")
        page.fill("#passphrase2", PASSPHRASE + " new")
        page.screenshot(path=str(screenshot_dir / f"setup-restore-choice-{kind}-390.png"), full_page=True)
        submit.click()
        skip_passkey(page)
        page.wait_for_url(new_server.origin + "/backup/restore?first=1")
        assert "This device is set up. Now the backup" in page.inner_text("#first-step")

        # Where is the backup: the page says whose it is before anything is written.
        if kind == "folder":
            page.fill("#restore-form input[name=path]", target["path"])
        else:
            page.check("#restore-form input[name=kind][value=webdav]")
            page.fill("#restore-form input[name=url]", target["url"])
            page.fill("#restore-form input[name=username]", target["username"])
            page.fill("#restore-form input[name=password]", target["password"])
        page.click("#restore-form button[type=submit]")
        page.wait_for_selector("#found:not([hidden])")
        found = page.inner_text("#found-text")
        assert "Old iPhone" in found and "2 accounts" in found
        assert phone.api("GET", "/api/codes")["accounts"] == []  # looking wrote nothing
        page.fill("#key", recovery_key)
        page.screenshot(path=str(screenshot_dir / f"setup-restore-found-{kind}-390.png"), full_page=True)
        page.click("#restore-btn")
        page.wait_for_selector("#done:not([hidden])")
        assert "2 accounts restored" in page.inner_text("#done-text")
        page.click("#done a.btn")

        # The list shows both accounts with the codes their secrets give now.
        page.wait_for_selector("#accounts[data-started] .acct .code")
        for issuer, secret in ACCOUNTS.items():
            row = page.locator(".acct", has_text=issuer)
            shown = re.sub(r"\s", "", row.locator(".code").inner_text())
            totp = pyotp.TOTP(secret)
            # the page may have flipped to the next period between its render and this read
            now = int(time.time())
            assert shown in {totp.at(now), totp.at(now - 30), totp.at(now + 30)}, (issuer, shown)
        page.screenshot(path=str(screenshot_dir / f"setup-restore-list-{kind}-390.png"))
        assert phone.errors == []
    finally:
        phone.close()


def test_setup_without_restore_lands_on_the_empty_list(browser: Any, fresh_server: GunicornServer) -> None:
    phone = new_device(browser, fresh_server.origin)
    try:
        page = phone.page
        phone.goto(f"/setup?token={SETUP_TOKEN}")
        assert page.is_checked("input[name=start][value=new]")
        page.fill("#device_name", "iPhone")
        page.fill("#passphrase", PASSPHRASE)
        page.fill("#passphrase2", PASSPHRASE)
        page.click("#setup-form button[type=submit]")
        skip_passkey(page)
        page.wait_for_url(fresh_server.origin + "/")
        page.wait_for_selector(".card.empty")
        assert phone.errors == []
    finally:
        phone.close()
