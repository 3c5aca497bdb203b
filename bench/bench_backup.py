"""Benchmark: time from a change to a complete backup at a WebDAV server on loopback, and restore.

Prints figures (not a timed test). Servers run on 127.0.0.1 and are stopped at the end:
wsgidav in process (content-hash ETags, basic auth) and, if Debian apache2 is installed,
Apache mod_dav with its own config.

- push: a 20-account vault, one account changed, `BackupService.push` until it returns (claim,
  write, read-back, housekeeping). scrypt is excluded by design: the backup master key is
  derived once (at enable/unlock) and kept in BackupState; a push runs no scrypt.
  Aim: median under 200 ms.
- restore: `BackupService.restore` of a 1000-account backup with the recovery key, including
  its one scrypt (N=2^15, r=8, p=1) and decoding every account. Aim: under 2 s.

Run: .venv/bin/python bench/bench_backup.py [--pushes 50] [--restores 5]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from authvault.backup import BackupService, load  # noqa: E402
from authvault.model import Account
from authvault.vault.crypto import DEFAULT_SCRYPT  # noqa: E402
from tests.backup_servers import apache_available, start_apache, start_wsgidav  # noqa: E402


def make_accounts(n: int, tag: str = "acct") -> list[Account]:
    """n TOTP accounts with random 20-byte secrets."""
    return [Account(secret=os.urandom(20), issuer=f"Issuer {i}", name=f"{tag}{i}@example.com")
            for i in range(n)]


def ms(seconds: float) -> str:
    """Seconds as milliseconds, one decimal."""
    return f"{seconds * 1000:.1f} ms"


def bench_server(label: str, server: Any, work: Path, pushes: int, restores: int) -> None:
    """Push and restore figures against one running WebDAV server."""
    service = BackupService(work / f"locks-{label}", scrypt=DEFAULT_SCRYPT)
    # push: 20 accounts, one changed per push
    store = load(server.target())
    accounts = make_accounts(20)
    t0 = time.perf_counter()
    result = service.enable(store, device_id="bench-phone", device_name="Bench phone",
                            accounts=accounts)
    enable_s = time.perf_counter() - t0
    state = result.state
    assert state is not None
    times = []
    for i in range(pushes):
        accounts[i % 20] = Account(secret=os.urandom(20), issuer=f"Issuer {i % 20}",
                                   name=f"changed{i}@example.com")
        t0 = time.perf_counter()
        state = service.push(store, state, accounts)
        times.append(time.perf_counter() - t0)
    times.sort()
    print(f"[{label}] enable (first backup, incl. one scrypt N=2^15): {ms(enable_s)}")
    print(f"[{label}] push of a 20-account vault x{pushes}: median {ms(statistics.median(times))}"
          f", p95 {ms(times[int(len(times) * 0.95) - 1])}, min {ms(times[0])}, "
          f"max {ms(times[-1])}  (aim: median < 200 ms)")

    # restore: 1000 accounts
    big_target = server.target()
    big = load(big_target)
    many = make_accounts(1000, "many")
    t0 = time.perf_counter()
    big_result = service.enable(big, device_id="bench-big", device_name="Big", accounts=many)
    build_s = time.perf_counter() - t0
    found = big.read("authvault-backup.json")
    assert found is not None
    size = len(found[0])
    rtimes = []
    for _ in range(restores):
        t0 = time.perf_counter()
        holder, restored = service.restore(load(big_target), big_result.recovery_key or "")
        rtimes.append(time.perf_counter() - t0)
        assert len(restored) == 1000 and holder.count == 1000
    push_big = []
    big_state = big_result.state
    assert big_state is not None
    for _ in range(5):
        t0 = time.perf_counter()
        big_state = service.push(big, big_state, many)
        push_big.append(time.perf_counter() - t0)
    print(f"[{label}] 1000-account backup: object {size / 1024:.0f} KiB, enable {ms(build_s)}, "
          f"push median {ms(statistics.median(push_big))}")
    print(f"[{label}] restore of 1000 accounts x{restores} (incl. scrypt): median "
          f"{ms(statistics.median(rtimes))}, max {ms(max(rtimes))}  (aim: < 2 s)")


def main() -> None:
    """Run the benchmark against wsgidav (and Apache if installed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=50)
    parser.add_argument("--restores", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="authvault-bench-"))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, loopback 127.0.0.1")
    try:
        server = start_wsgidav(work / "wsgidav")
        try:
            bench_server("wsgidav", server, work, args.pushes, args.restores)
        finally:
            server.stop()
        if apache_available():
            apache = start_apache()
            try:
                bench_server("apache", apache, work, args.pushes, args.restores)
            finally:
                apache.stop()
                shutil.rmtree(apache.extra["base"], ignore_errors=True)
        else:
            print("[apache] skipped: Debian apache2 with mod_dav_fs is not installed")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
