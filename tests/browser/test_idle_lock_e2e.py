"""The list locks itself after the idle time: no tap, no key, and the codes are gone.

The server under test locks after a few seconds (tests/browser/apps.py) instead of the shortest
time a person can choose (one minute), so the test waits seconds, not a minute.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from .apps import SHORT_LOCK_SECONDS
from .conftest import new_device, setup_device
from .gunicorn_server import GunicornServer

URI = "otpauth://totp/IdleBank:alice?secret=JBSWY3DPEHPK3PXP&issuer=IdleBank"


def test_untouched_list_locks_itself_and_hides_everything(browser: object,
                                                          server_factory: Callable[..., GunicornServer]) -> None:
    server = server_factory(app="tests.browser.apps:short_lock()")
    phone = new_device(browser, server.origin)
    setup_device(phone, server)
    phone.api("POST", "/api/accounts", {"uri": URI})
    phone.goto("/")
    page = phone.page
    page.wait_for_selector(".acct .code")
    started = time.monotonic()
    # the list keeps polling the codes meanwhile; those polls must not keep the device unlocked
    page.wait_for_selector("#unlock-form", timeout=60_000)
    waited = time.monotonic() - started
    assert SHORT_LOCK_SECONDS - 1 <= waited <= SHORT_LOCK_SECONDS + 10, waited
    html = page.content()
    for text in ("IdleBank", "alice", "codes-data"):
        assert text not in html
    state = phone.context.request.get(phone.origin + "/api/session").json()["state"]
    assert state == "locked"
    phone.close()
