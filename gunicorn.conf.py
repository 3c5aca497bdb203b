"""gunicorn settings for `scripts/run` (plain `gunicorn app:app` works too, with gunicorn's defaults)."""
import os

bind = [os.environ.get("AUTHVAULT_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("AUTHVAULT_WORKERS", "2"))
threads = int(os.environ.get("AUTHVAULT_THREADS", "4"))
control_socket_disable = True
accesslog = "-"
# Never log query strings: the setup and add-a-device links carry one-time tokens.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'
