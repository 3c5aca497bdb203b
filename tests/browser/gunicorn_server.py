"""Start AuthVault under gunicorn for a test or a benchmark, and stop it by its PID.

No pytest and no Playwright here, so the multi-worker test and the benchmarks use it too:

    with GunicornServer.start(data_dir, workers=2) as server:
        requests.get(server.url + "/api/session")

The server binds 127.0.0.1 on a free port; `server.origin` is http://localhost:PORT, the address a
browser must open (WebAuthn needs the name `localhost`, not an IP address: the RP ID and the
expected origin are localhost's, and Chromium resolves localhost to loopback itself).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Sequence

REPO = Path(__file__).resolve().parents[2]
GUNICORN = REPO / ".venv" / "bin" / "gunicorn"
SETUP_TOKEN = "browser-setup-token-0123456789"
PASSPHRASE = "correct horse battery staple"
# The access log format the multi-worker test reads: the worker's PID first.
PID_ACCESS_FORMAT = '%(p)s "%(m)s %(U)s" %(s)s'


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gunicorn_command() -> list[str]:
    """The gunicorn executable of this checkout's virtual environment (or the one on PATH)."""
    if GUNICORN.exists():
        return [str(GUNICORN)]
    return ["gunicorn"]


@dataclass
class GunicornServer:
    """One running gunicorn master serving `app:app`; its workers are its children."""

    proc: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path
    access_log: Path | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """Where a script talks to it (loopback by IP)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        """Where a browser opens it (the name `localhost`, a secure context)."""
        return f"http://localhost:{self.port}"

    @property
    def pid(self) -> int:
        """The gunicorn master's PID."""
        return self.proc.pid

    @classmethod
    def start(
        cls,
        data_dir: Path,
        *,
        workers: int = 2,
        threads: int | None = None,
        env: dict[str, str] | None = None,
        extra_args: Sequence[str] = (),
        access_log: bool = False,
        timeout: float = 30.0,
        app: str = "app:app",
    ) -> "GunicornServer":
        """Start gunicorn on a free port with AuthVault's settings in `env`; wait until it answers.

        `env` adds to (and overrides) the defaults: AUTHVAULT_DATA_DIR=data_dir,
        AUTHVAULT_SETUP_TOKEN=SETUP_TOKEN and AUTHVAULT_ORIGIN=http://localhost:PORT.
        With `access_log`, every request is logged with the serving worker's PID first. `app` is the
        WSGI app gunicorn serves (the benchmarks serve a bare Flask app the same way).
        """
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        # Only the settings given here: an AUTHVAULT_* variable of the caller's shell (a host name
        # that turns TLS on, say) must not change what is tested.
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHVAULT_")}
        full_env.update(
            {
                "AUTHVAULT_DATA_DIR": str(data_dir),
                "AUTHVAULT_SETUP_TOKEN": SETUP_TOKEN,
                "AUTHVAULT_ORIGIN": f"http://localhost:{port}",
                "PYTHONUNBUFFERED": "1",
                # The tests' backup servers are on 127.0.0.1 (authvault/backup/reach.py).
                "AUTHVAULT_BACKUP_ALLOW_LOOPBACK": "1",
            }
        )
        full_env.update(env or {})
        args = [
            *gunicorn_command(),
            "--no-control-socket",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "5",
        ]
        if threads is not None:
            args += ["--threads", str(threads)]
        access_path = None
        if access_log:
            access_path = data_dir.parent / f"access-{port}.log"
            args += ["--access-logfile", str(access_path), "--access-logformat", PID_ACCESS_FORMAT]
        args += [*extra_args, app]
        log_path = data_dir.parent / f"gunicorn-{port}.log"
        with open(log_path, "wb") as log:
            # cwd=REPO: gunicorn also reads the project's gunicorn.conf.py; the flags above win.
            proc = subprocess.Popen(
                args,
                cwd=REPO,
                env=full_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = cls(proc, port, data_dir, log_path, access_path, full_env)
        try:
            server.wait_ready(workers, timeout)
        except BaseException:
            server.stop()
            raise
        return server

    def log_text(self) -> str:
        """What gunicorn and the app printed so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def worker_pids(self) -> list[int]:
        """The PIDs of the master's worker processes, from /proc."""
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(c) for c in children]

    def wait_ready(self, workers: int, timeout: float) -> None:
        """Wait until gunicorn booted `workers` workers and one of them answers HTTP."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.proc.returncode}:\n{self.log_text()}"
                )
            booted = len(re.findall(r"Booting worker with pid", self.log_text()))
            if booted >= workers:
                try:
                    with urllib.request.urlopen(self.url + "/api/session", timeout=2):
                        return
                except urllib.error.HTTPError:
                    return  # it answered (a 404 from an app without /api/session)
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not become ready in {timeout} s:\n{self.log_text()}")

    def served_by(self) -> dict[int, int]:
        """How many logged requests each worker PID served (needs `access_log=True`)."""
        counts: dict[int, int] = {}
        if self.access_log is None or not self.access_log.exists():
            return counts
        for line in self.access_log.read_text().splitlines():
            head = line.split(" ", 1)[0].strip("<>")  # gunicorn writes %(p)s as <PID>
            if head.isdigit():
                counts[int(head)] = counts.get(int(head), 0) + 1
        return counts

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gunicorn by its PID: SIGTERM (graceful), then SIGKILL to its process group."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(
                    self.proc.pid, signal.SIGKILL
                )  # its own session: only this server's processes
                self.proc.wait(5)

    def __enter__(self) -> "GunicornServer":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
