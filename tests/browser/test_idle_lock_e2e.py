"""The list locks itself after the idle time: no tap, no key, and the codes are gone.

Slow on purpose (the shortest lock time is one minute), so it runs once, on its own page.
"""
from __future__ import annotations

import time

import pytest

from .conftest import Device

pytestmark = [pytest.mark.browser, pytest.mark.slow]

URI = "otpauth://totp/IdleBank:alice?secret=JBSWY3DPEHPK3PXP&issuer=IdleBank"


def test_untouched_list_locks_itself_and_hides_everything(phone: Device) -> None:
    phone.api("PATCH", "/api/settings", {"lock_minutes": 1})
    phone.api("POST", "/api/accounts", {"uri": URI})
    phone.goto("/")
    page = phone.page
    page.wait_for_selector(".acct .code")
    started = time.monotonic()
    # the list keeps polling the codes meanwhile; those polls must not keep the device unlocked
    page.wait_for_selector("#unlock-form", timeout=90_000)
    waited = time.monotonic() - started
    assert 55 <= waited <= 80, waited
    html = page.content()
    for text in ("IdleBank", "alice", "codes-data"):
        assert text not in html
    state = phone.context.request.get(phone.origin + "/api/session").json()["state"]
    assert state == "locked"
