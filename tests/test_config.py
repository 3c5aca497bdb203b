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
ADDRESS_VARS = ("AUTHVAULT_HOST_NAME", "AUTHVAULT_RP_ID", "AUTHVAULT_ORIGIN", "AUTHVAULT_BIND", "AUTHVAULT_SETUP_TOKEN",
                "AUTHVAULT_LOCK_MINUTES", "AUTHVAULT_BACKUP_VERSIONS",
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


# -- contradictions are refused, naming the variable to change --------------------------------

@pytest.mark.parametrize("values, names", [
    ({"host_name": "nas.local", "origin": "http://nas.local:8443"}, ["AUTHVAULT_ORIGIN", "https://nas.local:8443"]),
    ({"host_name": "nas.local", "tls_cert": "/c.pem", "tls_key": "/k.pem", "origin": "http://nas.local"},
     ["AUTHVAULT_ORIGIN", "AUTHVAULT_TLS_CERT"]),
    ({"host_name": "nas.local", "origin": "https://other.local:8443"}, ["AUTHVAULT_ORIGIN", "AUTHVAULT_HOST_NAME"]),
    ({"host_name": "nas.local", "rp_id": "example.com"}, ["AUTHVAULT_RP_ID", "nas.local"]),
    ({"rp_id": "192.168.1.10"}, ["AUTHVAULT_RP_ID", "IP address"]),
    ({"origin": "https://nas.local/authvault"}, ["AUTHVAULT_ORIGIN", "scheme, host"]),
    ({"origin": "nas.local:8443"}, ["AUTHVAULT_ORIGIN"]),
    ({"host_name": "https://nas.local"}, ["AUTHVAULT_HOST_NAME", "a name only"]),
    ({"host_name": "nas.local:8443"}, ["AUTHVAULT_HOST_NAME", "AUTHVAULT_BIND"]),
    ({"host_name": "v.example.com", "behind_proxy": "1", "tls_cert": "/c.pem", "tls_key": "/k.pem"},
     ["AUTHVAULT_BEHIND_PROXY", "AUTHVAULT_TLS_CERT"]),
    ({"behind_proxy": "enabled"}, ["AUTHVAULT_BEHIND_PROXY", "'enabled'"]),
    ({"lock_minutes": "0"}, ["AUTHVAULT_LOCK_MINUTES", "1 to 1440"]),
    ({"lock_minutes": "five"}, ["AUTHVAULT_LOCK_MINUTES", "whole number"]),
    ({"backup_versions": "-1"}, ["AUTHVAULT_BACKUP_VERSIONS"]),
])
def test_contradictions_refuse_to_start_naming_what_to_change(env, values: dict[str, str],  # type: ignore[no-untyped-def]
                                                               names: list[str]) -> None:
    env(**values)
    with pytest.raises(SystemExit) as exc:
        Settings()
    for name in names:
        assert name in str(exc.value)


@pytest.mark.parametrize("value, expected", [("1", True), ("TRUE", True), ("on", True), ("yes", True),
                                             ("0", False), ("off", False), ("", False), ("No", False)])
def test_behind_proxy_reads_the_usual_spellings(env, value: str, expected: bool) -> None:  # type: ignore[no-untyped-def]
    env(behind_proxy=value, host_name="v.example.com")
    assert Settings().behind_proxy is expected


def test_gunicorn_refuses_to_start_on_a_contradiction(tmp_path: Path) -> None:
    """As a person meets it: the server exits at once with the message, and serves nothing."""
    import os
    import subprocess
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHVAULT_")}
    env.update(AUTHVAULT_DATA_DIR=str(tmp_path / "data"), AUTHVAULT_HOST_NAME="nas.local",
               AUTHVAULT_ORIGIN="http://nas.local:8443", AUTHVAULT_BIND="127.0.0.1:0")
    gunicorn = REPO / ".venv" / "bin" / "gunicorn"
    proc = subprocess.run([str(gunicorn) if gunicorn.exists() else "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert "Change AUTHVAULT_ORIGIN to https://nas.local:8443 or unset it" in proc.stdout + proc.stderr


# -- the effective settings, logged once at start ----------------------------------------------

def test_start_logs_the_effective_settings_once_without_secrets(env, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                caplog: pytest.LogCaptureFixture) -> None:
    env(host_name="authvault.local", setup_token="very-secret-setup-token-42")
    conf = _gunicorn_conf()
    with caplog.at_level(logging.INFO, logger="test.gunicorn"):
        conf["on_starting"](_Server())
    settings = [r.getMessage() for r in caplog.records if r.getMessage().startswith("AuthVault setting: ")]
    assert f"AuthVault setting: data folder: {(tmp_path / 'data').resolve()}" in settings
    assert "AuthVault setting: address people open: https://authvault.local:8443" in settings
    assert "AuthVault setting: passkeys bound to (RP ID): authvault.local" in settings
    assert any("listening on: 0.0.0.0:8443; HTTPS with a certificate for authvault.local" in s for s in settings)
    assert len(settings) == len(set(settings)) >= 7
    assert "very-secret-setup-token-42" not in caplog.text
    assert "insecure" not in caplog.text


@pytest.mark.parametrize("values, warning", [
    ({"bind": "0.0.0.0:8000"}, "plain HTTP on 0.0.0.0:8000: passphrases and codes cross the network unencrypted"),
    ({"host_name": "v.example.com", "behind_proxy": "1", "bind": "0.0.0.0:8000"}, "can forge X-Forwarded-*"),
    ({"origin": "http://192.168.1.10:8000"}, "is plain HTTP: passkeys work only over HTTPS"),
    ({"tls_cert": "/c.pem", "tls_key": "/k.pem"}, "passkeys need the host name"),
])
def test_insecure_settings_are_warned_about(env, values: dict[str, str], warning: str) -> None:  # type: ignore[no-untyped-def]
    env(**values)
    _, warnings = Settings().summary()
    assert any(warning in w for w in warnings), warnings


def test_safe_defaults_warn_about_nothing(env) -> None:  # type: ignore[no-untyped-def]
    assert Settings().summary()[1] == []
