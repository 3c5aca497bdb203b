"""Settings: the RP ID, origin, bind address and TLS mode derived from the host name; gunicorn.conf.py."""
from __future__ import annotations

import logging
import runpy
from pathlib import Path
from typing import Any

import pytest

from authvault import tls
from authvault.config import Settings, bind_port

REPO = Path(__file__).resolve().parents[1]
ADDRESS_VARS = ("AUTHVAULT_HOST_NAME", "AUTHVAULT_RP_ID", "AUTHVAULT_ORIGIN", "AUTHVAULT_BIND",
                "AUTHVAULT_BEHIND_PROXY", "AUTHVAULT_TLS_CERT", "AUTHVAULT_TLS_KEY", "AUTHVAULT_DATA_DIR")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Set AuthVault's address variables (all others cleared) for Settings() to read."""
    for name in ADDRESS_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUTHVAULT_DATA_DIR", str(tmp_path / "data"))

    def set_env(**values: str) -> None:
        for key, value in values.items():
            monkeypatch.setenv(f"AUTHVAULT_{key.upper()}", value)
    return set_env


@pytest.mark.parametrize("values, rp_id, origin, bind, mode", [
    ({}, None, None, "127.0.0.1:8000", "off"),
    ({"host_name": "authvault.local"}, "authvault.local", "https://authvault.local:8443", "0.0.0.0:8443", "local-ca"),
    ({"host_name": "AuthVault.Local."}, "authvault.local", "https://authvault.local:8443", "0.0.0.0:8443", "local-ca"),
    ({"host_name": "authvault.local", "bind": "0.0.0.0:443"}, "authvault.local", "https://authvault.local",
     "0.0.0.0:443", "local-ca"),
    ({"host_name": "nas.home.arpa", "bind": "[::]:9443"}, "nas.home.arpa", "https://nas.home.arpa:9443",
     "[::]:9443", "local-ca"),
    ({"host_name": "vault.example.com", "behind_proxy": "1"}, "vault.example.com", "https://vault.example.com",
     "127.0.0.1:8000", "proxy"),
    ({"host_name": "vault.example.com", "tls_cert": "/etc/le/fullchain.pem", "tls_key": "/etc/le/privkey.pem"},
     "vault.example.com", "https://vault.example.com:8443", "0.0.0.0:8443", "provided"),
    ({"host_name": "vault.example.com", "rp_id": "example.com", "origin": "https://vault.example.com"},
     "example.com", "https://vault.example.com", "0.0.0.0:8443", "local-ca"),
])
def test_derives_rp_id_origin_bind_and_mode_from_the_host_name(env, values: dict[str, str], rp_id: str | None,  # type: ignore[no-untyped-def]
                                                               origin: str | None, bind: str, mode: str) -> None:
    env(**values)
    settings = Settings()
    assert (settings.rp_id, settings.origin, settings.bind, settings.tls_mode) == (rp_id, origin, bind, mode)


@pytest.mark.parametrize("host", ["192.168.1.10", "::1"])
def test_rejects_an_ip_address_as_host_name(env, host: str) -> None:  # type: ignore[no-untyped-def]
    env(host_name=host)
    with pytest.raises(SystemExit, match="not the IP address"):
        Settings()


def test_needs_both_certificate_and_key(env) -> None:  # type: ignore[no-untyped-def]
    env(host_name="vault.example.com", tls_cert="/etc/le/fullchain.pem")
    with pytest.raises(SystemExit, match="AUTHVAULT_TLS_KEY"):
        Settings()


@pytest.mark.parametrize("bind, port", [("0.0.0.0:8443", 8443), ("[::]:443", 443), ("localhost:9000", 9000),
                                        ("unix:/run/authvault.sock", None), ("0.0.0.0", 8000)])
def test_bind_port(bind: str, port: int | None) -> None:
    assert bind_port(bind) == port


class _Server:
    def __init__(self) -> None:
        self.log = logging.getLogger("test.gunicorn")


def _gunicorn_conf() -> dict[str, Any]:
    return runpy.run_path(str(REPO / "gunicorn.conf.py"))


def test_gunicorn_serves_the_local_ca_certificate_and_makes_it_at_start(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env(host_name="authvault.local")
    conf = _gunicorn_conf()
    files = tls.TlsFiles.in_data_dir(tmp_path / "data")
    assert conf["bind"] == ["0.0.0.0:8443"]
    assert (conf["certfile"], conf["keyfile"]) == (str(files.cert), str(files.key))
    assert not files.cert.exists()
    conf["on_starting"](_Server())
    assert files.cert.exists() and files.key.exists() and files.ca_cert.exists()


def test_gunicorn_serves_a_provided_certificate(env) -> None:  # type: ignore[no-untyped-def]
    env(host_name="vault.example.com", tls_cert="/etc/le/fullchain.pem", tls_key="/etc/le/privkey.pem")
    conf = _gunicorn_conf()
    assert (conf["certfile"], conf["keyfile"]) == ("/etc/le/fullchain.pem", "/etc/le/privkey.pem")


@pytest.mark.parametrize("values", [{}, {"host_name": "vault.example.com", "behind_proxy": "1"}])
def test_gunicorn_serves_plain_http_on_localhost_without_a_name_or_behind_a_proxy(env, values: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    env(**values)
    conf = _gunicorn_conf()
    assert conf["bind"] == ["127.0.0.1:8000"]
    assert "certfile" not in conf and "keyfile" not in conf
    conf["on_starting"](_Server())  # only logs


def test_gunicorn_rechecks_the_certificate_on_requests_at_most_twice_a_day(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env(host_name="authvault.local")
    conf = _gunicorn_conf()
    files = tls.TlsFiles.in_data_dir(tmp_path / "data")

    class Worker:
        log = logging.getLogger("test.worker")
    conf["pre_request"](Worker(), None)
    assert not files.cert.exists()  # checked at start, not again within 12 hours
    conf["pre_request"].__globals__["_last_check"] -= 13 * 3600
    conf["pre_request"](Worker(), None)
    assert files.cert.exists()
