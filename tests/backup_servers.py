"""Real backup servers for the backup tests and benchmarks, all on 127.0.0.1 (no pytest here:
the fixtures that start and stop them are the plugin tests/plugins/backup_servers.py).

- wsgidav, in process (cheroot in a thread), with a content-hash ETag provider (wsgidav's own
  ETag misses a same-size change within one second) and HTTP Basic auth (measured: same size, same second).
- Apache httpd with mod_dav/mod_dav_fs from Debian, with its own self-contained config in a temp
  folder (`FileETag Digest` for strong content-hash ETags), stopped by its PID.
- moto's server, an S3 *emulator* (not AWS), as a subprocess, stopped by its PID.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

USER = "backup"
PASSWORD = "s3cret-test-only"
APACHE = "/usr/sbin/apache2"
APACHE_MODULES = Path("/usr/lib/apache2/modules")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0, *, up: bool = True) -> None:
    """Wait (bounded) until 127.0.0.1:port accepts connections (or, with up=False, refuses)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise RuntimeError(f"port {port} did not come {'up' if up else 'down'} in {timeout}s")


@dataclass
class DavServer:
    """A running WebDAV server: its base URL, credentials and a way to stop (and restart) it."""

    kind: str
    url: str
    root: Path
    stop: Callable[[], None]
    start: Callable[[], None]
    extra: dict[str, Any] = field(default_factory=dict)

    def target(self, *, password: str = PASSWORD, sub: str | None = None) -> dict[str, Any]:
        """A backup target for a fresh (or the given) collection under this server."""
        sub = sub or f"t-{uuid.uuid4().hex[:10]}"
        return {
            "kind": "webdav",
            "url": f"{self.url}{sub}/",
            "username": USER,
            "password": password,
        }


# -- wsgidav -------------------------------------------------------------------------------------


def _hash_provider(root: Path) -> Any:
    from wsgidav.fs_dav_provider import FileResource, FilesystemProvider

    class HashEtagFileResource(FileResource):
        def get_etag(self) -> str:
            h = hashlib.sha256()
            with open(self._file_path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            return h.hexdigest()[:40]

    class HashEtagProvider(FilesystemProvider):
        def get_resource_inst(self, path: str, environ: dict[str, Any]) -> Any:
            res = super().get_resource_inst(path, environ)
            if type(res) is FileResource:
                res.__class__ = HashEtagFileResource
            return res

    return HashEtagProvider(str(root), readonly=False)


def start_wsgidav(root: Path, port: int | None = None) -> DavServer:
    """wsgidav + cheroot in a thread on 127.0.0.1, basic auth, content-hash ETags."""
    from cheroot import wsgi
    from wsgidav.wsgidav_app import WsgiDAVApp

    root.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    config = {
        "host": "127.0.0.1",
        "port": port,
        "provider_mapping": {"/": _hash_provider(root)},
        "http_authenticator": {
            "domain_controller": None,
            "accept_basic": True,
            "accept_digest": False,
            "default_to_digest": False,
        },
        "simple_dc": {"user_mapping": {"*": {USER: {"password": PASSWORD}}}},
        "verbose": 0,
        "logging": {"enable_loggers": []},
        "lock_storage": True,
    }
    state: dict[str, Any] = {}

    def start() -> None:
        server = wsgi.Server(
            ("127.0.0.1", port), WsgiDAVApp(config), numthreads=40, request_queue_size=128
        )
        server.prepare()
        thread = threading.Thread(target=server.serve, daemon=True)
        thread.start()
        state.update(server=server, thread=thread)
        wait_port(port)

    def stop() -> None:
        server = state.pop("server", None)
        if server is not None:
            server.stop()
            state.pop("thread").join(10)

    start()
    return DavServer("wsgidav", f"http://127.0.0.1:{port}/", root, stop, start)


# -- Apache mod_dav -------------------------------------------------------------------------------

APACHE_CONF = """ServerRoot "{a}"
ServerName localhost
Listen 127.0.0.1:{port}
PidFile {a}/httpd.pid
ErrorLog {a}/logs/error.log
LogLevel warn
LoadModule mpm_event_module   {m}/mod_mpm_event.so
LoadModule authz_core_module  {m}/mod_authz_core.so
LoadModule authz_user_module  {m}/mod_authz_user.so
LoadModule authn_core_module  {m}/mod_authn_core.so
LoadModule authn_file_module  {m}/mod_authn_file.so
LoadModule auth_basic_module  {m}/mod_auth_basic.so
LoadModule dav_module         {m}/mod_dav.so
LoadModule dav_fs_module      {m}/mod_dav_fs.so
{user}
DavLockDB {a}/DavLock
DocumentRoot "{a}/dav"
<Directory "{a}/dav">
    Dav On
    FileETag Digest
    AuthType Basic
    AuthName "backup"
    AuthUserFile {a}/htpasswd
    Require valid-user
</Directory>
"""


def apache_available() -> bool:
    """Whether Debian's apache2 with mod_dav_fs is installed."""
    return os.path.exists(APACHE) and (APACHE_MODULES / "mod_dav_fs.so").exists()


def start_apache(port: int | None = None) -> DavServer:
    """Apache httpd + mod_dav_fs with its own config in a fresh temp folder, on 127.0.0.1.

    The folder is made under /tmp with mode 0755 because Apache drops to www-data when started
    as root and must reach its DocumentRoot; `stop(); cleanup` is left to the caller through
    `extra["base"]`.
    """
    port = port or free_port()
    base = Path(tempfile.mkdtemp(prefix="authvault-apache-"))
    os.chmod(base, 0o755)
    (base / "logs").mkdir(exist_ok=True)
    dav = base / "dav"
    dav.mkdir(exist_ok=True)
    sha = base64.b64encode(hashlib.sha1(PASSWORD.encode()).digest()).decode()
    (base / "htpasswd").write_text(f"{USER}:{{SHA}}{sha}\n")
    as_root = os.geteuid() == 0
    user = "User www-data\nGroup www-data" if as_root else ""
    (base / "httpd.conf").write_text(
        APACHE_CONF.format(a=base, port=port, m=APACHE_MODULES, user=user)
    )
    if as_root:
        shutil.chown(dav, "www-data", "www-data")
        shutil.chown(base, "www-data", "www-data")
        for p in (base / "logs",):
            shutil.chown(p, "www-data", "www-data")
    pidfile = base / "httpd.pid"

    def start() -> None:
        pidfile.unlink(missing_ok=True)
        subprocess.run(
            [APACHE, "-f", str(base / "httpd.conf"), "-k", "start"],
            check=True,
            timeout=30,
            env={"PATH": "/usr/sbin:/usr/bin:/bin", "LANG": "C"},
        )
        wait_port(port)
        for _ in range(100):
            if pidfile.exists() and pidfile.read_text().strip():
                break
            time.sleep(0.05)

    def stop() -> None:
        if not pidfile.exists():
            return
        pid = int(pidfile.read_text().strip())
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(200):  # bounded wait for the parent to exit
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        wait_port(port, up=False)

    start()
    return DavServer("apache", f"http://127.0.0.1:{port}/", dav, stop, start, extra={"base": base})


# -- moto S3 emulator -------------------------------------------------------------------------


@dataclass
class S3Server:
    """A running moto server (an S3 emulator, not AWS) checking signatures: endpoint, bucket,
    the access key of a user allowed s3:*, and stop/start."""

    endpoint: str
    bucket: str
    access_key_id: str
    secret_access_key: str
    stop: Callable[[], None]
    start: Callable[[], None]

    def target(self, *, secret: str | None = None, sub: str | None = None) -> dict[str, Any]:
        """A backup target for a fresh (or the given) prefix in the bucket."""
        return {
            "kind": "s3",
            "endpoint_url": self.endpoint,
            "bucket": self.bucket,
            "prefix": sub or f"t-{uuid.uuid4().hex[:10]}",
            "access_key_id": self.access_key_id,
            "secret_access_key": secret or self.secret_access_key,
            "region": "us-east-1",
        }


def moto_available() -> bool:
    """Whether moto's server and boto3 are installed in this environment."""
    try:
        import boto3  # noqa: F401
        import moto  # noqa: F401
    except ImportError:
        return False
    return True


def start_moto(port: int | None = None, bucket: str = "authvault-test") -> S3Server:
    """moto's server on 127.0.0.1 (an S3 emulator) with one bucket and IAM auth switched on,
    handling one request at a time so conditional PUTs are atomic as on S3 (tests/moto_serial.py).

    INITIAL_NO_AUTH_ACTION_COUNT=4 lets the first four requests through unsigned (create the
    user, its key, its policy, the bucket); every later request must be signed by that key, so
    a wrong secret is refused (SignatureDoesNotMatch) as on a real store.
    """
    import boto3
    from botocore.config import Config

    port = port or free_port()
    state: dict[str, Any] = {}
    endpoint = f"http://127.0.0.1:{port}"
    setup = {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "setup",
        "aws_secret_access_key": "setup",
    }

    def start() -> None:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("moto_serial.py")), str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="4", MOTO_PORT=str(port)),
        )
        state["proc"] = proc
        wait_port(port, timeout=30)
        iam = boto3.client("iam", **setup)
        iam.create_user(UserName="backup")
        key = iam.create_access_key(UserName="backup")["AccessKey"]
        iam.put_user_policy(
            UserName="backup",
            PolicyName="s3",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
                }
            ),
        )
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            config=Config(s3={"addressing_style": "path"}),
        ).create_bucket(Bucket=bucket)
        state["key"] = (key["AccessKeyId"], key["SecretAccessKey"])

    def stop() -> None:
        proc = state.pop("proc", None)
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            wait_port(port, up=False)

    start()
    server = S3Server(endpoint, bucket, state["key"][0], state["key"][1], stop, start)
    return server
