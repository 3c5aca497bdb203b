"""gunicorn settings for `scripts/run` (gunicorn reads ./gunicorn.conf.py by itself, so `gunicorn app:app` uses them too).

With AUTHVAULT_HOST_NAME set, AuthVault serves HTTPS on 0.0.0.0:8443 with a certificate from its
own local CA, made (or renewed) at start; AUTHVAULT_TLS_CERT/AUTHVAULT_TLS_KEY serve a real
certificate instead; AUTHVAULT_BEHIND_PROXY=1 serves plain HTTP on 127.0.0.1:8000 for a reverse
proxy. The rules are in authvault/config.py.
"""
import datetime as dt
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # `import authvault` from any working folder

from authvault import tls  # noqa: E402
from authvault.config import Settings  # noqa: E402

_settings = Settings()

bind = [_settings.bind]
workers = int(os.environ.get("AUTHVAULT_WORKERS", "2"))
threads = int(os.environ.get("AUTHVAULT_THREADS", "4"))
control_socket_disable = True
accesslog = "-"
# Never log query strings: the setup and add-a-device links carry one-time tokens.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'

if _settings.tls_mode == "local-ca":
    _files = tls.TlsFiles.in_data_dir(_settings.data_dir)
    certfile, keyfile = str(_files.cert), str(_files.key)
elif _settings.tls_mode == "provided":
    certfile, keyfile = str(_settings.tls_cert), str(_settings.tls_key)

# gunicorn loads the certificate files for every new connection, so a certificate renewed on
# disk (by the check below, or by certbot for AUTHVAULT_TLS_CERT) is served without a restart.
_RECHECK_SECONDS = 12 * 3600
_last_check = time.monotonic()


def _ensure_certificate(log: logging.Logger) -> None:
    status = tls.ensure_server_certificate(_settings.data_dir, _settings.host_name or "")
    if status.ca_created:
        log.info("Created the local CA %s (SHA-256 %s)", status.files.ca_cert, status.ca_fingerprint)
    if status.renewed:
        log.info("Server certificate for %s issued (%s), valid until %s", _settings.host_name, status.reason,
                 status.not_after.date().isoformat())


def on_starting(server):  # type: ignore[no-untyped-def]
    """In the master, before listening: make or renew the certificate, say where to go."""
    log = server.log
    mode = _settings.tls_mode
    if mode == "local-ca":
        _ensure_certificate(log)
        log.info("AuthVault: open %s ; phones trust it once via %s/connect", _settings.origin, _settings.origin)
    elif mode == "provided":
        not_after = tls.certificate_not_after(_settings.tls_cert)
        if not_after is None:
            log.error("AUTHVAULT_TLS_CERT %s holds no readable certificate", _settings.tls_cert)
        elif not_after - dt.datetime.now(dt.timezone.utc) < dt.timedelta(days=14):
            log.warning("The certificate in %s expires on %s: renew it", _settings.tls_cert, not_after.date())
        if not _settings.host_name:
            log.warning("AUTHVAULT_TLS_CERT is set but AUTHVAULT_HOST_NAME is not: passkeys need the host name")
    elif mode == "proxy":
        log.info("AuthVault behind a reverse proxy: plain HTTP on %s, X-Forwarded-Proto/Host trusted", bind[0])
    else:
        log.warning("AUTHVAULT_HOST_NAME is not set: plain HTTP; passkeys work only on http://localhost. "
                    "To reach AuthVault from a phone, see the README, 'Reaching it from a phone'.")


def pre_request(worker, req):  # type: ignore[no-untyped-def]
    """Twice a day at most, per worker: renew the local certificate if it is due (servers run for years)."""
    global _last_check
    if _settings.tls_mode != "local-ca" or time.monotonic() - _last_check < _RECHECK_SECONDS:
        return
    _last_check = time.monotonic()
    try:
        _ensure_certificate(worker.log)
    except Exception:  # never fail a request over this; the next check retries
        worker.log.exception("Could not check or renew the server certificate")


def on_reload(server):  # type: ignore[no-untyped-def]
    """`kill -HUP` the master: the configuration is read again, and the certificate checked now."""
    if _settings.tls_mode == "local-ca":
        _ensure_certificate(server.log)
