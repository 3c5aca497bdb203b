"""Compressed answers and BREACH: an answer that carries a secret (codes, the CSRF token) must not
echo what a request sent, or an observer of the compressed sizes could guess the secret a byte at
a time. These pin the facts the README's analysis ("Security") rests on."""
from __future__ import annotations

import gzip
import re
import time
from typing import Any

from tests.conftest import Api

URI = "otpauth://totp/Zebrabank:carol@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Zebrabank"
CANARY = "zq7canaryxv"


def test_secret_bearing_answers_echo_nothing_of_the_request(unlocked: Api) -> None:
    unlocked.post("/api/accounts", {"uri": URI})
    client = unlocked.client
    for path in ("/", "/settings", "/add", "/backup", "/api/codes", "/api/session", "/api/offline-copy",
                 "/api/backup"):
        resp = client.get(f"{path}?q={CANARY}&{CANARY}=1", headers={"Referer": CANARY, "Accept-Encoding": "gzip"})
        assert resp.status_code == 200, path
        body = resp.get_data()
        if resp.headers.get("Content-Encoding") == "gzip":   # compressed, as a browser gets it
            body = gzip.decompress(body)
        assert CANARY.encode() not in body, path
    # a page that does not exist: a page with the CSRF token, and none of the path
    resp = client.get(f"/{CANARY}", headers={"Accept": "text/html"})
    assert resp.status_code == 404 and CANARY not in resp.get_data(as_text=True)
    resp = client.get(f"/accounts/{CANARY}", headers={"Accept": "text/html"})
    assert resp.status_code == 404 and CANARY not in resp.get_data(as_text=True)


def test_the_pages_csrf_token_changes_every_second(unlocked: Api) -> None:
    """Flask-WTF signs the session's token with a timestamp: the signed part differs each second,
    so no two pages a second apart carry the same secret text (the unsigned part alone is no token)."""
    def token() -> str:
        page = unlocked.client.get("/").get_data(as_text=True)
        return re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]
    first = token()
    time.sleep(1.05)
    second = token()
    assert first != second
    assert first.split(".")[0] == second.split(".")[0]          # the same session token, signed again
    assert unlocked.client.post("/api/lock", headers={"X-CSRFToken": first}).status_code == 200   # both valid


def test_icon_errors_echo_a_name_but_carry_no_secret(app: Any) -> None:
    resp = app.test_client().get(f"/static/icons.svg?s={CANARY}", headers={"Accept": "application/json"})
    assert resp.status_code == 404 and CANARY in resp.get_json()["error"]["message"]
    assert set(resp.get_json()) == {"error"} and "csrf" not in resp.get_data(as_text=True).lower()
