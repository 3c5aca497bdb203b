"""Helpers of the offline tests and benchmarks: a server that is really stopped and started again
on the same address (same origin, so the browser keeps its service worker and offline copy), and
reading the browser's offline copy."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from .gunicorn_server import REPO, GunicornServer, gunicorn_command


def restart(server: GunicornServer, workers: int = 1) -> GunicornServer:
    """A new gunicorn on the stopped server's port, data folder and settings."""
    assert server.proc.poll() is not None, "stop the server first"
    args = [*gunicorn_command(), "--no-control-socket", "-w", str(workers), "-b", f"127.0.0.1:{server.port}",
            "--graceful-timeout", "5", "app:app"]
    log_path = Path(str(server.log_path) + ".restarted")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(args, cwd=REPO, env=server.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    again = GunicornServer(proc, server.port, server.data_dir, log_path, None, server.env)
    try:
        again.wait_ready(workers, 30)
    except BaseException:
        again.stop()
        raise
    return again


READ_COPY = """async () => {
  const { loadCopy } = await import("/static/js/offline-store.js");
  return await loadCopy();
}"""


def offline_copy(page: Any) -> Any:
    """The IndexedDB record of the offline copy (None if there is none)."""
    return page.evaluate(READ_COPY)


def wait_for_copy(page: Any, generation: str | None = None, timeout_s: float = 10) -> Any:
    """Wait until the page has stored an offline copy (of another generation than `generation`)."""
    for _ in range(int(timeout_s * 10)):
        copy = offline_copy(page)
        if copy and copy.get("envelope") and copy.get("generation") != generation:
            return copy
        page.wait_for_timeout(100)
    raise AssertionError("the page kept no offline copy")


def wait_for_controller(page: Any) -> None:
    """Wait until a service worker controls the page (reloading once after it activates)."""
    page.evaluate("() => navigator.serviceWorker.ready")
    if not page.evaluate("() => !!navigator.serviceWorker.controller"):
        page.reload()
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
