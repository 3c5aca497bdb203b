"""Benchmark GET /api/codes under gunicorn against a bare Flask endpoint, and a worker's memory.

Run from the repository root: `.venv/bin/python bench/bench_codes.py [--duration 10]`.

Both servers run under gunicorn with the same settings (2 workers, 4 threads each, the project's
gunicorn.conf.py), bound to loopback. The load comes from `wrk` (Debian package `wrk`) when it is
installed, else from a bounded Python client (threads, one requests.Session each). Each run is
bounded in time. Prints figures only (Markdown, ready for the README); it asserts nothing.
The machine's core count matters: client and servers share them.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

from tests.browser.gunicorn_server import PASSPHRASE, SETUP_TOKEN, GunicornServer  # noqa: E402


def secret(i: int) -> str:
    """A distinct 160-bit base32 secret per account (equal secrets would be refused as duplicates)."""
    return base64.b32encode(hashlib.sha1(f"bench-{i}".encode()).digest()).decode()


def set_up(server: GunicornServer, accounts: int) -> dict[str, str]:
    """Set AuthVault up, add `accounts` TOTP accounts; return the unlocked browser's cookies."""
    s = requests.Session()
    csrf = s.get(server.url + "/api/session").json()["csrf_token"]
    r = s.post(server.url + "/api/setup", headers={"X-CSRFToken": csrf},
               json={"setup_token": SETUP_TOKEN, "device_name": "bench", "passphrase": PASSPHRASE})
    r.raise_for_status()
    csrf = r.json()["csrf_token"]
    for i in range(accounts):
        uri = (f"otpauth://totp/Service{i}:user{i}%40example.com?secret={secret(i)}"
               f"&issuer=Service{i}")
        s.post(server.url + "/api/accounts", headers={"X-CSRFToken": csrf}, json={"uri": uri}).raise_for_status()
    codes = s.get(server.url + "/api/codes").json()
    assert len(codes["accounts"]) == accounts
    return {c.name: c.value for c in s.cookies}


def load_wrk(url: str, headers: dict[str, str], duration: float, connections: int) -> tuple[float, int, str]:
    """Requests per second by wrk, the count of non-2xx answers, and wrk's latency line."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{int(duration)}s", "--latency", "--timeout", "10s"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, timeout=duration + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    latency = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", out)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)  # the latency distribution's line, not a stdev ending in 99%
    lat = f"avg {latency.group(1)}, p99 {p99.group(1) if p99 else '?'}" if latency else ""
    return rps, int(bad.group(1)) if bad else 0, lat


def load_python(url: str, headers: dict[str, str], duration: float, connections: int) -> tuple[float, int, str]:
    """The same with threads and requests.Session (slower client: the ratio is less telling)."""
    deadline = time.monotonic() + duration
    counts = [0] * connections
    bad = [0] * connections
    latencies: list[list[float]] = [[] for _ in range(connections)]

    def run(i: int) -> None:
        with requests.Session() as s:
            s.headers.update(headers)
            while time.monotonic() < deadline:
                t = time.perf_counter()
                r = s.get(url, timeout=10)
                latencies[i].append(time.perf_counter() - t)
                counts[i] += 1
                bad[i] += r.status_code >= 300

    start = time.monotonic()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    every = sorted(x for lst in latencies for x in lst)
    lat = f"avg {statistics.mean(every) * 1000:.2f}ms, p99 {every[int(len(every) * .99)] * 1000:.2f}ms" if every else ""
    return sum(counts) / elapsed, sum(bad), lat


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in kB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per measured run (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up before each run")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs per endpoint (median shown)")
    args = parser.parse_args()
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    load = load_wrk if client == "wrk" else load_python

    base = Path(tempfile.mkdtemp(prefix="authvault-bench-"))
    print(f"# GET /api/codes vs a bare Flask endpoint ({platform.python_version()}, {os.cpu_count()} CPUs, "
          f"gunicorn {args.workers} workers x {args.threads} threads, {args.connections} connections, "
          f"{args.duration:g} s per run, {args.repeat} interleaved run(s) each, median shown; client: {client}; "
          f"load average before: {os.getloadavg()[0]:.1f})\n")
    runs: dict[str, list[tuple[float, int, str]]] = {}
    with GunicornServer.start(base / "bare", workers=args.workers, threads=args.threads,
                              app="bench.bare_app:app") as bare, \
            GunicornServer.start(base / "authvault", workers=args.workers, threads=args.threads) as server:
        cookies = set_up(server, args.accounts)
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        targets = {
            "bare Flask, constant JSON": (bare.url + "/const", {}),
            f"GET /api/codes, {args.accounts} accounts (active: touches the session)":
                (server.url + "/api/codes", {"Cookie": cookie}),
            f"GET /api/codes, {args.accounts} accounts (idle poll, X-AuthVault-Idle: 1)":
                (server.url + "/api/codes", {"Cookie": cookie, "X-AuthVault-Idle": "1"}),
        }
        for url, headers in targets.values():
            load(url, headers, args.warmup, args.connections)
        # Interleaved, so that a change in the machine's load hits every endpoint alike.
        for _round in range(args.repeat):
            for label, (url, headers) in targets.items():
                runs.setdefault(label, []).append(load(url, headers, args.duration, args.connections))
        workers = {pid: memory(pid) for pid in server.worker_pids()}
        master = memory(server.pid)
    results = {label: sorted(r)[len(r) // 2] for label, r in runs.items()}

    print("| endpoint | requests/s (median) | every run | non-2xx | latency (median run) |")
    print("| --- | ---: | --- | ---: | --- |")
    for label, (rps, _bad, lat) in results.items():
        every = ", ".join(f"{r[0]:,.0f}" for r in runs[label])
        print(f"| {label} | {rps:,.0f} | {every} | {sum(r[1] for r in runs[label])} | {lat} |")
    bare_rps = results["bare Flask, constant JSON"][0]
    print()
    for label, (rps, _bad, _lat) in results.items():
        if label.startswith("GET /api/codes"):
            print(f"- ratio {label.split('(')[1].rstrip(')')}: **{rps / bare_rps:.2f}** (aim: at least 0.7)")
    print("\n| process | RSS after the load | peak RSS |")
    print("| --- | ---: | ---: |")
    for pid, mem in workers.items():
        print(f"| worker {pid} | {mem['VmRSS'] / 1024:.1f} MB | {mem['VmHWM'] / 1024:.1f} MB |")
    print(f"| master {server.pid} | {master['VmRSS'] / 1024:.1f} MB | {master['VmHWM'] / 1024:.1f} MB |")
    print("\n(aim: a worker under 100 MB; the peak includes the one scrypt of the setup, N=2^15 r=8: 32 MiB)")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
