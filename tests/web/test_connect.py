"""The /connect page, the CA downloads, the passkey banner, and forwarded headers behind a proxy."""
from __future__ import annotations

import plistlib
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from flask import Flask, render_template_string

from authvault import tls
from authvault.config import Settings
from authvault.web import create_app

HOST = "authvault.local"
ORIGIN = "https://authvault.local:8443"
BANNER_PATH = "/test-banner"
BANNER = '{% from "connect/_banner.html" import connect_banner %}{{ connect_banner() }}'


def make_app(tmp_path: Path, *, make_ca: bool = True, **overrides: Any) -> Flask:
    """An app whose settings say how it is reached (local CA on authvault.local:8443 by default)."""
    values: dict[str, Any] = {"data_dir": tmp_path / "data", "setup_token": "connect-test-token-0123456789",
                              "host_name": HOST, "rp_id": None, "origin": None, "bind": "0.0.0.0:8443",
                              "behind_proxy": False, "tls_cert": None, "tls_key": None, "scrypt_n": 2**4}
    values.update(overrides)
    settings = Settings(**values)
    if make_ca and settings.tls_mode == "local-ca":
        tls.ensure_server_certificate(settings.data_dir, settings.host_name or "")
    app = create_app(settings, {"TESTING": True})
    # A page with nothing but the banner, included the way base.html includes it.
    app.add_url_rule(BANNER_PATH, "test_banner", lambda: render_template_string(BANNER))
    return app


@pytest.fixture
def local_ca_app(tmp_path: Path) -> Flask:
    return make_app(tmp_path)


def _ca(app: Flask) -> x509.Certificate:
    cert = tls.load_ca_certificate(app.config["AUTHVAULT"].data_dir)
    assert cert is not None
    return cert


# --- the page -------------------------------------------------------------------------------

def test_connect_page_shows_the_address_the_ca_and_the_steps(local_ca_app: Flask) -> None:
    resp = local_ca_app.test_client().get("/connect", base_url=ORIGIN)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert f'href="{ORIGIN}/"' in html
    assert tls.fingerprint(_ca(local_ca_app)) in html
    assert tls.common_name(_ca(local_ca_app)) in html
    # iOS: the profile, then full trust; Android: install a CA certificate from Settings.
    assert 'href="/connect/authvault.mobileconfig"' in html
    assert "Certificate Trust Settings" in html and "VPN & Device Management" in html
    assert 'href="/connect/ca.cer"' in html and "Install a certificate › CA certificate" in html
    assert 'data-ok="true"' in html
    assert 'src="data:image/svg+xml;base64,' in html  # QR code of the address


def test_connect_page_needs_no_device_and_no_unlock(local_ca_app: Flask) -> None:
    client = local_ca_app.test_client()
    assert client.get("/connect", base_url=ORIGIN).status_code == 200  # before setup
    assert client.get("/connect/ca.cer", base_url=ORIGIN).status_code == 200


def test_connect_page_without_a_host_name_explains_what_to_set(tmp_path: Path) -> None:
    app = make_app(tmp_path, host_name=None, bind="127.0.0.1:8000")
    html = app.test_client().get("/connect", base_url="http://localhost:8000").get_data(as_text=True)
    assert "AUTHVAULT_HOST_NAME" in html and "/connect/ca.cer" not in html


@pytest.mark.parametrize("overrides", [
    {"host_name": "vault.example.com", "tls_cert": Path("/x/fullchain.pem"), "tls_key": Path("/x/privkey.pem")},
    {"host_name": "vault.example.com", "behind_proxy": True},
])
def test_connect_page_with_a_trusted_certificate_has_nothing_to_install(tmp_path: Path, overrides: dict) -> None:
    app = make_app(tmp_path, **overrides)
    origin = app.config["AUTHVAULT"].origin
    html = app.test_client().get("/connect", base_url=origin).get_data(as_text=True)
    assert "Nothing to install" in html and "/connect/ca.cer" not in html
    assert f'href="{origin}/"' in html


# --- downloads ------------------------------------------------------------------------------

def test_ca_cer_is_der_with_the_ca_mime_type(local_ca_app: Flask) -> None:
    resp = local_ca_app.test_client().get("/connect/ca.cer", base_url=ORIGIN)
    assert resp.status_code == 200
    assert resp.mimetype == "application/x-x509-ca-cert"
    assert x509.load_der_x509_certificate(resp.data) == _ca(local_ca_app)
    assert 'filename="authvault-ca.cer"' in resp.headers["Content-Disposition"]


def test_ca_pem_is_the_ca_certificate(local_ca_app: Flask) -> None:
    resp = local_ca_app.test_client().get("/connect/ca.pem", base_url=ORIGIN)
    assert resp.status_code == 200
    assert resp.data == tls.TlsFiles.in_data_dir(local_ca_app.config["AUTHVAULT"].data_dir).ca_cert.read_bytes()


def test_ios_profile_holds_the_ca(local_ca_app: Flask) -> None:
    resp = local_ca_app.test_client().get("/connect/authvault.mobileconfig", base_url=ORIGIN)
    assert resp.status_code == 200 and resp.mimetype == "application/x-apple-aspen-config"
    profile = plistlib.loads(resp.data)
    assert profile["PayloadContent"][0]["PayloadType"] == "com.apple.security.root"
    assert profile["PayloadContent"][0]["PayloadContent"] == tls.ca_der(_ca(local_ca_app))
    assert HOST in profile["PayloadDisplayName"]


def test_the_private_keys_are_never_served(local_ca_app: Flask) -> None:
    client = local_ca_app.test_client()
    for path in ("/connect/ca-key.pem", "/connect/server-key.pem", "/connect/../tls/ca-key.pem"):
        resp = client.get(path, base_url=ORIGIN)
        assert resp.status_code == 404
        assert b"PRIVATE KEY" not in resp.data


@pytest.mark.parametrize("path", ["/connect/ca.pem", "/connect/ca.cer", "/connect/authvault.mobileconfig"])
@pytest.mark.parametrize("overrides", [
    {"host_name": None, "bind": "127.0.0.1:8000"},
    {"host_name": "vault.example.com", "behind_proxy": True},
    {"host_name": "vault.example.com", "tls_cert": Path("/x/fullchain.pem"), "tls_key": Path("/x/privkey.pem")},
])
def test_no_ca_download_without_a_local_ca(tmp_path: Path, path: str, overrides: dict) -> None:
    app = make_app(tmp_path, **overrides)
    resp = app.test_client().get(path, headers={"Accept": "application/json"})
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "no_local_ca"


def test_no_ca_download_before_the_ca_exists(tmp_path: Path) -> None:
    app = make_app(tmp_path, make_ca=False)
    resp = app.test_client().get("/connect/ca.cer", base_url=ORIGIN, headers={"Accept": "application/json"})
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "no_local_ca"
    html = app.test_client().get("/connect", base_url=ORIGIN).get_data(as_text=True)
    assert "has not been created yet" in html


# --- the banner -----------------------------------------------------------------------------

def _banner(app: Flask, base_url: str, headers: dict[str, str] | None = None) -> str:
    resp = app.test_client().get(BANNER_PATH, base_url=base_url, headers=headers or {})
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


@pytest.mark.parametrize("base_url, reason, go_to", [
    (ORIGIN, None, None),
    ("http://192.168.1.10:8000", "ip", ORIGIN + BANNER_PATH),
    ("https://192.168.1.10:8443", "ip", ORIGIN + BANNER_PATH),
    ("https://[fe80::1]:8443", "ip", ORIGIN + BANNER_PATH),
    ("http://authvault.local:8000", "http", ORIGIN + BANNER_PATH),
    ("https://nas.local:8443", "other_address", ORIGIN + BANNER_PATH),
    ("https://authvault.local:9443", "other_address", ORIGIN + BANNER_PATH),
    ("http://localhost:8000", "other_address", ORIGIN + BANNER_PATH),
])
def test_banner_with_a_configured_name(local_ca_app: Flask, base_url: str, reason: str | None,
                                       go_to: str | None) -> None:
    html = _banner(local_ca_app, base_url)
    if reason is None:
        assert html.strip() == ""
        return
    assert f'data-reason="{reason}"' in html
    assert "Your passphrase works here." in html
    assert f'href="{go_to}"' in html
    assert f'href="{ORIGIN}/connect"' in html


@pytest.mark.parametrize("base_url, reason", [
    ("http://localhost:8000", None),
    ("http://127.0.0.1:8000", "ip"),
    ("http://192.168.1.10:8000", "ip"),
    ("http://nas.lan:8000", "http"),
])
def test_banner_without_a_name(tmp_path: Path, base_url: str, reason: str | None) -> None:
    app = make_app(tmp_path, host_name=None, bind="127.0.0.1:8000")
    html = _banner(app, base_url)
    if reason is None:
        assert html.strip() == ""
        return
    assert f'data-reason="{reason}"' in html
    assert 'href="/connect"' in html  # nowhere better to send them: explain instead


def test_banner_says_why_an_ip_address_cannot_work(local_ca_app: Flask) -> None:
    html = _banner(local_ca_app, "http://192.168.1.10:8000")
    assert ("Passkeys (Face ID, fingerprint) cannot work when AuthVault is opened by an IP address. "
            "Your passphrase works here.") in html


def test_the_banner_the_connect_page_and_the_api_say_the_same_words(local_ca_app: Flask) -> None:
    """"Can passkeys work at this address" has its messages once: each place shows the API's message."""
    for base_url in ("http://192.168.1.10:8000", "http://authvault.local:8000", "https://nas.local:8443"):
        client = local_ca_app.test_client()
        message = client.get("/api/passkeys/status", base_url=base_url).get_json()["message"]
        assert message
        assert message in _banner(local_ca_app, base_url)
        assert message in client.get("/connect", base_url=base_url).get_data(as_text=True)


def test_connect_page_over_plain_http_by_ip_says_why(local_ca_app: Flask) -> None:
    html = local_ca_app.test_client().get("/connect", base_url="http://192.168.1.10:8000").get_data(as_text=True)
    assert 'data-ok="false" data-reason="ip"' in html


# --- behind a reverse proxy -----------------------------------------------------------------

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "vault.example.com", "X-Forwarded-For": "192.168.1.20"}


def test_behind_a_proxy_the_forwarded_scheme_and_host_are_honoured(tmp_path: Path) -> None:
    app = make_app(tmp_path, host_name="vault.example.com", behind_proxy=True)
    client = app.test_client()
    html = client.get("/connect", base_url="http://127.0.0.1:8000", headers=FORWARDED).get_data(as_text=True)
    assert 'data-ok="true"' in html
    assert _banner(app, "http://127.0.0.1:8000", headers=FORWARDED).strip() == ""
    # Without the headers (someone reaching gunicorn directly) it is plain HTTP by IP.
    assert 'data-reason="ip"' in client.get("/connect", base_url="http://127.0.0.1:8000").get_data(as_text=True)


def test_forwarded_headers_are_ignored_unless_behind_a_proxy(local_ca_app: Flask) -> None:
    headers = {**FORWARDED, "X-Forwarded-Host": "authvault.local:8443"}
    html = local_ca_app.test_client().get("/connect", base_url="http://192.168.1.10:8000",
                                          headers=headers).get_data(as_text=True)
    assert 'data-reason="ip"' in html


def test_behind_a_proxy_session_cookies_are_secure(tmp_path: Path) -> None:
    app = make_app(tmp_path, host_name="vault.example.com", behind_proxy=True)
    client = app.test_client()
    resp = client.get("/api/session", base_url="http://127.0.0.1:8000", headers=FORWARDED)
    cookies = resp.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in c for c in cookies)


def test_hsts_only_over_https(local_ca_app: Flask, tmp_path: Path) -> None:
    """Issue 12, item 7: no HSTS over HTTPS. A year, for this name only; never over plain HTTP
    (a browser ignores it there, and localhost must stay reachable over HTTP)."""
    client = local_ca_app.test_client()
    for path in ("/", "/connect", "/api/session", "/connect/ca.pem"):
        assert client.get(path, base_url="https://authvault.local:8443").headers["Strict-Transport-Security"] \
            == "max-age=31536000", path
        assert "Strict-Transport-Security" not in client.get(path, base_url="http://localhost:8000").headers
    proxied = make_app(tmp_path / "proxy", host_name="vault.example.com", behind_proxy=True).test_client()
    assert proxied.get("/api/session", base_url="http://127.0.0.1:8000",
                       headers=FORWARDED).headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in proxied.get("/api/session", base_url="http://127.0.0.1:8000").headers
