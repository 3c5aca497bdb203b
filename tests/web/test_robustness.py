"""Every JSON endpoint answers bad input with a clear 4xx error, never a 500.

The routes come from the app itself, so a new endpoint is covered the day it is added.
"""
from __future__ import annotations

import io
from typing import Any

import pytest

from tests.conftest import PASSPHRASE, Api

WRONG_TYPES: dict[str, Any] = {
    # every field name the API reads, with a value of the wrong type
    "uri": 12, "issuer": ["x"], "name": {"a": 1}, "secret": 3.5, "type": None, "algorithm": 7,
    "digits": "many", "period": [], "counter": -1, "note": 1, "backup_policy": 1, "ids": "abc",
    "passphrase": 123, "device_name": 0, "setup_token": [], "lock_minutes": "5", "language": 1,
    "target": "folder", "resolution": 5, "recovery_key": 99, "delete_remote": "yes",
    "expected_generation": "1", "mode": [], "format": 3, "password": {}, "confirm": "sure",
    "i_understand_unencrypted": "yes", "keep": "all", "account_ids": 7, "device_id": [],
    "token": 1, "confirm_name": 2, "id": 1, "rawId": 2, "response": "x", "type_": 1,
    "clientExtensionResults": 5,
}
# Raw JSON text that parses badly in Python: nested past the recursion limit, and lone surrogates
# (valid JSON escapes that are no characters) in every field.
RAW_JSON: list[bytes] = [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    ("{" + ", ".join(f'"{k}": "x\\ud800y"' for k in WRONG_TYPES) + "}").encode(),
    ("{" + ", ".join(f'"{k}": ["\\udfff"]' for k in WRONG_TYPES) + "}").encode(),
]
BODIES: list[Any] = [None, [], "text", {"x": 1}, WRONG_TYPES, {k: "A" * 5000 for k in WRONG_TYPES}, *RAW_JSON]


def api_routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", "nope").replace(f"<string:{arg}>", "nope")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, path))
    return out


def relock_safe(api: Api) -> None:
    """Keep the device unlocked between probes (some probes lock it, as /api/lock should)."""
    if api.refresh()["state"] != "unlocked":
        assert api.post("/api/unlock", {"passphrase": PASSPHRASE}).status_code == 200


def test_the_scan_finds_the_endpoints(app) -> None:  # type: ignore[no-untyped-def]
    routes = api_routes(app)
    assert ("POST", "/api/accounts") in routes and ("POST", "/api/backup/enable") in routes
    assert len(routes) > 30


def test_no_endpoint_answers_bad_json_with_a_500(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    failures = []
    for method, path in api_routes(app):
        for body in BODIES:
            relock_safe(unlocked)
            if body is None:
                resp = unlocked.call(method, path)
            elif isinstance(body, str):
                resp = unlocked.call(method, path, data=body, content_type="text/plain")
            elif isinstance(body, bytes):
                resp = unlocked.call(method, path, data=body, content_type="application/json")
            else:
                resp = unlocked.call(method, path, json=body)
            if resp.status_code >= 500 and resp.status_code != 503:
                failures.append(f"{method} {path} {str(body)[:40]!r} -> {resp.status_code}")
            elif resp.status_code >= 400:
                err = (resp.get_json(silent=True) or {}).get("error")
                if not (err and err.get("code") and err.get("message")):
                    failures.append(f"{method} {path} -> {resp.status_code} without the error shape")
    assert failures == []


@pytest.mark.parametrize("payload", [b"", b"\x00" * 100, b"GIF89a" + b"\xff" * 50, b"PK\x03\x04" + b"\x00" * 40,
                                     b"<?xml version='1.0'?><!DOCTYPE a [<!ENTITY b 'c'>]><a>&b;</a>"])
def test_uploads_of_junk_are_4xx(unlocked: Api, payload: bytes) -> None:
    for path in ("/api/accounts/scan", "/api/import"):
        resp = unlocked.post(path, data={"file": (io.BytesIO(payload), "junk.bin")},
                             content_type="multipart/form-data")
        assert 400 <= resp.status_code < 500, (path, resp.status_code, resp.get_json())
        assert resp.get_json()["error"]["message"]


@pytest.mark.parametrize("host", ["a" * 300, "a" * 70_000, "x" * 64 + ".local", "a..b", "[::1", "é.com"])
def test_a_host_header_that_is_no_host_name_is_a_4xx(app, host: str) -> None:  # type: ignore[no-untyped-def]
    """Werkzeug cannot build URLs for such a host (IDNA refuses it): the error page has no links then."""
    client = app.test_client()
    for path in ("/", "/setup", "/api/state", "/nope", "/static/js/core.js"):
        resp = client.get(path, headers={"Host": host})
        assert resp.status_code < 500, (path, resp.status_code)
