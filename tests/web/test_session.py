"""The unlock session's cookies: one Secure rule (web/session.secure_cookies) for every cookie we set."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.test_connect import make_app


@pytest.mark.parametrize(("base_url", "overrides", "secure"), [
    ("https://authvault.local:8443", {}, True),
    ("http://localhost:8000", {"host_name": None, "bind": "127.0.0.1:8000"}, False),
])
def test_the_device_cookie_is_secure_exactly_over_https(tmp_path: Path, base_url: str, overrides: dict[str, Any],
                                                         secure: bool) -> None:
    client = make_app(tmp_path, **overrides).test_client()
    csrf = client.get("/api/session", base_url=base_url).get_json()["csrf_token"]
    resp = client.post("/api/setup", base_url=base_url, headers={"X-CSRFToken": csrf, "Referer": base_url + "/"},
                       json={"setup_token": "connect-test-token-0123456789", "device_name": "iPhone",
                             "passphrase": "correct horse battery"})
    assert resp.status_code == 201, resp.get_json()
    device_cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("authvault_device="))
    assert ("Secure" in device_cookie) is secure
