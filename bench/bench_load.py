"""Load and fault benchmark (issue 12): hostile inputs against a real gunicorn, kill -9, a full disk.

Everything runs on 127.0.0.1 and is bounded in count and time (about 3-5 minutes here): one
AuthVault under gunicorn as shipped (2 workers x 4 threads), small hostile HTTP servers
(tests/hostile_servers.py) as backup accounts. It prints (Markdown):

- bad inputs tried, by kind (QR images, import files, backup accounts, API bodies), each kind sent
  8 at a time; the 5xx answers among them (a 503 `backup_unreachable` for a server that never
  answers is counted apart: it is the documented answer, "cannot be reached, retried later");
  requests that took over 10 s;
- the peak resident memory of any worker while each kind of upload ran, and after all of them;
- acknowledged changes lost when workers are killed with SIGKILL during a burst of changes, and
  when the whole server is killed and started again; and on a full disk (a 4 MiB tmpfs filled up,
  needs root to mount; skipped otherwise).

Run: .venv/bin/python bench/bench_load.py [--rounds 2] [--kills 8]
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import os
import random
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import qrcode  # noqa: E402
import requests  # noqa: E402
from PIL import Image  # noqa: E402

from tests.browser.gunicorn_server import PASSPHRASE, SETUP_TOKEN, GunicornServer  # noqa: E402
from tests.hostile_servers import hostile_server  # noqa: E402
from tests.paths import FIXTURES  # noqa: E402

HANG_SECONDS = 10.0
AEGIS = FIXTURES / "importers" / "aegis-fixtures"
def uri(n: int) -> str:
    """An account of its own (its own secret: the same secret twice is one account)."""
    secret = base64.b32encode(os.urandom(10)).decode()
    return f"otpauth://totp/Bank{n}:alice?secret={secret}&issuer=Bank{n}"


# -- a browser -----------------------------------------------------------------------------------

class Browser:
    """One browser's cookies and CSRF token against the server."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.s = requests.Session()
        self.csrf = self.s.get(url + "/api/session", timeout=30).json()["csrf_token"]

    def setup(self) -> None:
        r = self.call("POST", "/api/setup", {"setup_token": SETUP_TOKEN, "device_name": "iPhone",
                                             "passphrase": PASSPHRASE})
        assert r.status_code == 201, r.text
        self.csrf = r.json()["csrf_token"]

    def unlock(self) -> None:
        self.csrf = self.s.get(self.url + "/api/session", timeout=30).json()["csrf_token"]
        r = self.call("POST", "/api/unlock", {"passphrase": PASSPHRASE})
        assert r.status_code == 200, r.text
        self.csrf = r.json().get("csrf_token", self.csrf)

    def call(self, method: str, path: str, json_body: Any = None, **kw: Any) -> requests.Response:
        with requests.Session() as fresh:  # a connection of its own, as from another phone
            fresh.cookies = self.s.cookies  # one cookie jar (it has its own lock)
            return fresh.request(method, self.url + path, json=json_body, timeout=60,
                                 headers={"X-CSRFToken": self.csrf}, **kw)


# -- memory of the workers -----------------------------------------------------------------------

class RssSampler(threading.Thread):
    """Samples the resident memory of every worker every 20 ms; the peak per label."""

    def __init__(self, server: GunicornServer) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.label = "idle"
        self.peaks: dict[str, int] = defaultdict(int)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for pid in self.server.worker_pids():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                kb = int(next(ln for ln in status.splitlines() if ln.startswith("VmRSS")).split()[1])
                self.peaks[self.label] = max(self.peaks[self.label], kb // 1024)
            time.sleep(0.02)

    def now(self) -> list[int]:
        out = []
        for pid in self.server.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            out.append(int(next(ln for ln in status.splitlines() if ln.startswith("VmRSS")).split()[1]) // 1024)
        return out


# -- the bad inputs --------------------------------------------------------------------------------

def _img(image: Image.Image, fmt: str, **kw: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **kw)
    return out.getvalue()


def image_inputs() -> dict[str, bytes]:
    code = qrcode.make("otpauth://totp/X:a?secret=JBSWY3DPEHPK3PXP&issuer=X").get_image().convert("L")
    photo = Image.new("L", (8000, 5000), 200)
    photo.paste(code.resize((1500, 1500)), (300, 300))
    big_png = _img(Image.new("RGB", (20000, 20000)), "PNG", compress_level=9)  # 400 MP, small file
    png = _img(code, "PNG")
    return {
        "40 MP JPEG photo (read)": _img(photo.convert("RGB"), "JPEG", quality=70),
        "24 MP RGBA PNG (over the budget)": _img(Image.new("RGBA", (6000, 4100), (9, 9, 9, 255)), "PNG",
                                                 compress_level=1),
        "16 MP RGB PNG (read)": _img(Image.new("RGB", (4900, 3265), (200, 200, 200)), "PNG", compress_level=1),
        "20 MP WebP (over the budget)": _img(Image.new("RGB", (5000, 4000)), "WEBP", quality=10, method=0),
        "400 MP PNG bomb": big_png,
        "EPS (Ghostscript)": b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n",
        "TIFF, BMP (undocumented)": _img(code.convert("RGB"), "TIFF"),
        "truncated PNG": png[: len(png) // 2],
        "random bytes": os.urandom(200_000),
    }


def _aegis(**slot: Any) -> bytes:
    doc = json.loads((AEGIS / "aegis_encrypted.json").read_text())
    first = [s for s in doc["header"]["slots"] if s["type"] == 1][0]
    first.update(slot)
    return json.dumps(doc).encode()


def _sqlite_bomb() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "databases"
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE accounts (_id INTEGER PRIMARY KEY, email TEXT, secret TEXT, type INTEGER,"
                     " issuer TEXT, original_name TEXT, big BLOB GENERATED ALWAYS AS (zeroblob(900000000)) VIRTUAL)")
        conn.execute("INSERT INTO accounts (email, secret, type) VALUES ('a', 'JBSWY3DPEHPK3PXP', 0)")
        conn.commit()
        conn.close()
        return path.read_bytes()


def import_inputs() -> dict[str, tuple[bytes, str | None, str | None]]:
    out: dict[str, tuple[bytes, str | None, str | None]] = {
        "Aegis scrypt N=2^18 p=16": (_aegis(n=2**18, p=16), "test", None),
        "andOTP 5,000,000 PBKDF2 iterations": (struct.pack(">I", 5_000_000) + bytes(100), "x", "andotp"),
        "SQLite generated 900 MB column": (_sqlite_bomb(), None, None),
        "random bytes": (os.urandom(100_000), "x", None),
        "17 MiB file": (b"{" + b" " * (17 * 1024 * 1024), None, None),
    }
    if (AEGIS / "stratum_encrypted.bin").exists():
        out["Stratum Argon2id (8 at once)"] = ((AEGIS / "stratum_encrypted.bin").read_bytes(), "test", None)
    return out


def api_inputs() -> list[tuple[str, str, Any]]:
    long = "x" * 100_000
    return [("POST", "/api/accounts", {"uri": "otpauth://totp/" + long}),
            ("POST", "/api/accounts", {"uri": ["not", "text"]}),
            ("POST", "/api/accounts", {"secret": "!!!!", "issuer": long}),
            ("POST", "/api/accounts", {"uri": "otpauth-migration://offline?data=" + "A" * 50_000}),
            ("PATCH", "/api/accounts/nonexistent", {"issuer": 5}),
            ("POST", "/api/export", {"format": "aegis", "password": long}),
            ("POST", "/api/backup/enable", {"target": {"kind": "webdav", "url": "http://[::1"}})]


# -- running a kind ------------------------------------------------------------------------------

class Tally:
    def __init__(self) -> None:
        self.tried: dict[str, int] = defaultdict(int)
        self.fivexx: dict[str, int] = defaultdict(int)
        self.unreachable: dict[str, int] = defaultdict(int)
        self.hangs: dict[str, int] = defaultdict(int)
        self.slowest: dict[str, float] = defaultdict(float)
        self.statuses: dict[str, set[str]] = defaultdict(set)

    def record(self, kind: str, resp: requests.Response | None, seconds: float) -> None:
        self.tried[kind] += 1
        self.slowest[kind] = max(self.slowest[kind], seconds)
        if seconds > HANG_SECONDS:
            self.hangs[kind] += 1
        if resp is None:
            self.fivexx[kind] += 1  # no answer at all counts as a failure
            return
        code = ""
        try:
            code = resp.json().get("error", {}).get("code", "")
        except ValueError:
            pass
        self.statuses[kind].add(f"{resp.status_code} {code}".strip())
        if resp.status_code >= 500:
            if resp.status_code == 503 and code == "backup_unreachable":
                self.unreachable[kind] += 1
            else:
                self.fivexx[kind] += 1


def run_many(kind: str, tally: Tally, jobs: list[Callable[[], requests.Response]], at_once: int = 8) -> None:
    def one(job: Callable[[], requests.Response]) -> None:
        start = time.monotonic()
        try:
            resp: requests.Response | None = job()
        except requests.RequestException:
            resp = None
        tally.record(kind, resp, time.monotonic() - start)

    with ThreadPoolExecutor(at_once) as pool:
        list(pool.map(one, jobs))


def bad_inputs(server: GunicornServer, browser: Browser, sampler: RssSampler, rounds: int, tally: Tally,
               data_dir: Path) -> None:
    images = image_inputs()
    for name, data in images.items():
        sampler.label = "QR image: " + name
        run_many("QR images", tally, [lambda d=data: browser.call("POST", "/api/accounts/scan",
                                                                   files={"file": ("upload", d)})] * 8 * rounds)
    imports = import_inputs()
    for name, (data, password, fmt) in imports.items():
        sampler.label = "import: " + name
        form = {k: v for k, v in (("password", password), ("format", fmt)) if v}
        run_many("import files", tally, [lambda d=data, f=form: browser.call(
            "POST", "/api/import", files={"file": ("export", d)}, data=f)] * 8 * rounds)
    sampler.label = "backup accounts"
    targets: list[dict[str, Any]] = [
        {"kind": "webdav", "url": "http://169.254.169.254/latest/", "username": "u", "password": "p"},
        {"kind": "webdav", "url": "http://0.0.0.0:6379/", "username": "u", "password": "p"},
        {"kind": "folder", "path": "/etc"},
        {"kind": "folder", "path": str(data_dir)},
        {"kind": "folder", "path": "/nonexistent/nas"},
    ]
    servers = ["huge", "hang", "trickle", "plain", "s3_no_etag", "s3_code"]
    from contextlib import ExitStack
    with ExitStack() as stack:
        urls = {k: stack.enter_context(hostile_server(k)) for k in servers}
        for k in ("huge", "hang", "trickle", "plain"):
            targets.append({"kind": "webdav", "url": urls[k] + "/dav/", "username": "u", "password": "p"})
        targets.append({"kind": "webdav", "url": urls["huge"] + "/chunked/", "username": "u", "password": "p"})
        for k in ("s3_no_etag", "s3_code", "huge"):
            targets.append({"kind": "s3", "endpoint_url": urls[k], "bucket": "backups", "access_key_id": "k",
                            "secret_access_key": "s"})
        jobs = []
        for target in targets:
            for path in ("/api/backup/test", "/api/backup/enable"):
                jobs.append(lambda t=target, p=path: browser.call("POST", p, {"target": t}))
        run_many("backup accounts", tally, jobs * rounds)
    sampler.label = "API bodies"
    run_many("API bodies", tally, [lambda m=m, p=p, b=b: browser.call(m, p, b) for m, p, b in api_inputs()] * 4 * rounds)
    sampler.label = "idle"


# -- kill -9 ---------------------------------------------------------------------------------------

def kill_nine(base: Path, kills: int) -> tuple[int, int, int]:
    """Changes from 4 threads while workers are SIGKILLed `kills` times, then the whole server once.
    Returns (acknowledged, lost, kills done)."""
    data = base / "kill-data"
    server = GunicornServer.start(data, workers=2, threads=4)
    acknowledged: list[str] = []
    answers: dict[int, int] = {}
    lock = threading.Lock()
    try:
        browser = Browser(server.url)
        browser.setup()
        stop = threading.Event()
        counter = iter(range(10**6))

        def writer() -> None:
            while not stop.is_set():
                with lock:
                    n = next(counter)
                try:
                    r = browser.call("POST", "/api/accounts", {"uri": uri(n)})
                except requests.RequestException:
                    continue
                with lock:
                    answers[r.status_code] = answers.get(r.status_code, 0) + 1
                if r.status_code == 201:
                    with lock:
                        acknowledged.append(f"Bank{n}")

        threads = [threading.Thread(target=writer) for _ in range(4)]
        for t in threads:
            t.start()
        done = 0
        for _ in range(kills):
            time.sleep(random.uniform(0.3, 1.0))
            pids = server.worker_pids()
            if pids:
                os.kill(random.choice(pids), signal.SIGKILL)
                done += 1
        time.sleep(0.5)
        os.killpg(server.proc.pid, signal.SIGKILL)  # the whole server, mid-change
        server.proc.wait(10)
        stop.set()
        for t in threads:
            t.join(70)
    finally:
        server.stop()
    with GunicornServer.start(data, workers=2, threads=4) as again:
        b = Browser(again.url)
        b.s.cookies = browser.s.cookies  # the same browser, after the server came back
        b.unlock()
        present = {a["issuer"] for a in b.call("GET", "/api/codes").json()["accounts"]}
    lost = len([n for n in acknowledged if n not in present])
    print(f"(kill -9 writers' answers: {answers})", file=sys.stderr)
    return len(acknowledged), lost, done + 1


# -- disk full -------------------------------------------------------------------------------------

def disk_full(base: Path) -> tuple[int, int, int] | str:
    """Changes until a 4 MiB data disk is full, then space again: (acknowledged, lost, refusals)."""
    if os.geteuid() != 0:
        return "skipped: mounting a tmpfs needs root"
    disk = base / "small-disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(disk)],
                          capture_output=True, text=True)
    if done.returncode:
        return f"skipped: {done.stderr.strip()}"
    try:
        with GunicornServer.start(disk, workers=2) as server:
            browser = Browser(server.url)
            browser.setup()
            saved, refusals = [], 0
            for n in range(1000, 1010):  # some accounts before the disk fills
                if browser.call("POST", "/api/accounts", {"uri": uri(n)}).status_code == 201:
                    saved.append(f"Bank{n}")
            filler = disk / "filler"
            with open(filler, "wb", buffering=0) as f:
                for chunk in (1 << 16, 1 << 12, 1):
                    try:
                        while True:
                            f.write(b"\0" * chunk)
                    except OSError:
                        pass
            for n in range(200):
                r = browser.call("POST", "/api/accounts", {"uri": uri(n)})
                if r.status_code == 201:
                    saved.append(f"Bank{n}")
                else:
                    refusals += 1
                    if refusals >= 10:
                        break
            browser.call("POST", "/api/lock")
            filler.unlink()
            browser.unlock()
            present = {a["issuer"] for a in browser.call("GET", "/api/codes").json()["accounts"]}
            return len(saved), len([n for n in saved if n not in present]), refusals
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="times each bad input is sent (x8 at once)")
    parser.add_argument("--kills", type=int, default=8, help="workers killed with SIGKILL during changes")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="authvault-bench-load-") as tmp:
        base = Path(tmp)
        tally = Tally()
        with GunicornServer.start(base / "data", workers=2, threads=4) as server:
            sampler = RssSampler(server)
            sampler.start()
            time.sleep(0.3)
            browser = Browser(server.url)
            browser.setup()
            idle = sampler.now()
            bad_inputs(server, browser, sampler, args.rounds, tally, base / "data")
            time.sleep(1.0)
            after = sampler.now()
            sampler.stop.set()
            errors_logged = server.log_text().count("unexpected ")
        acked, lost, kills = kill_nine(base, args.kills)
        full = disk_full(base)

    print("## Bad inputs (gunicorn 2 workers x 4 threads, 8 requests at a time)\n")
    print("| kind | tried | 5xx | 503 unreachable | over 10 s | slowest | answers |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for kind in tally.tried:
        print(f"| {kind} | {tally.tried[kind]} | {tally.fivexx[kind]} | {tally.unreachable[kind]} | "
              f"{tally.hangs[kind]} | {tally.slowest[kind]:.1f} s | {', '.join(sorted(tally.statuses[kind]))} |")
    print(f"\nTotal: {sum(tally.tried.values())} bad inputs, **{sum(tally.fivexx.values())} 5xx**, "
          f"**{sum(tally.hangs.values())} over 10 s**; 'unexpected' errors in the server log: {errors_logged}\n")
    print("## Peak worker memory (RSS, MB) per kind of upload\n")
    print("| upload | peak RSS of any worker |")
    print("| --- | --- |")
    print(f"| idle, after setup | {max(idle) if idle else 0} |")
    for label, peak in sampler.peaks.items():
        if label != "idle":
            print(f"| {label} | {peak} |")
    print(f"| after all of them | {', '.join(map(str, after))} (each worker) |\n")
    print("## Faults\n")
    print(f"- kill -9: {kills} kills ({kills - 1} workers during changes, then the whole server): "
          f"{acked} changes acknowledged, **{lost} lost**")
    if isinstance(full, str):
        print(f"- disk full: {full}")
    else:
        print(f"- disk full (4 MiB tmpfs filled up): {full[0]} changes acknowledged, **{full[1]} lost**, "
              f"{full[2]} refused with 507 disk_full")
    print(f"\n(ran {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
