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

from authvault import data_folder, tls  # noqa: E402
from authvault.config import Settings, whole_number  # noqa: E402
from authvault.devices.sessions import IdlePurger  # noqa: E402

_settings = Settings()  # refuses to start, naming the variable to change, on a contradiction

bind = [_settings.bind]
workers = whole_number("AUTHVAULT_WORKERS", 2, low=1)
threads = whole_number("AUTHVAULT_THREADS", 4, low=1)
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
    # A data folder that cannot be written stops the server here, with one line (no traceback).
    data_folder.prepare(_settings.data_dir, _settings.db_path)
    # Once per start, in the master (as Radicale does): what is in force, and what is insecure.
    lines, warnings = _settings.summary()
    cfg = getattr(server, "cfg", None)
    lines.append(f"gunicorn: {getattr(cfg, 'workers', workers)} worker(s) x {getattr(cfg, 'threads', threads)} "
                 f"thread(s), bound to {', '.join(getattr(cfg, 'bind', bind))}")
    for line in lines:
        log.info("AuthVault setting: %s", line)
    for warning in warnings:
        log.warning("AuthVault insecure setting: %s", warning)
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


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    """In each worker: delete idle unlock sessions on time, even if their browser never returns."""
    IdlePurger(_settings.db_path, _settings.lock_minutes * 60).start()
