"""Benchmark: server time of one account edit (PATCH /api/accounts/<id>) with 100 accounts and
backup on (a folder backup account), and how many times that one request decrypts the vault and
writes it.

In process, with Flask's test client: the figure is the server's own work for the request (find
the device, unwrap the session key, decrypt, change, encrypt, write, push the backup to the
folder, answer). Prints the median of N edits and the decrypt/write counts of one edit.

`--baseline PATH` runs the same measurement on another checkout (for instance
`git archive <commit> | tar -x -C /tmp/base`) in a subprocess, alternating with this one, and
prints this checkout's median as a ratio to that one's: the before/after line of issue 10.

Run: .venv/bin/python bench/bench_edit.py [--edits 40] [--rounds 3] [--baseline /tmp/base]
Prints figures only; it asserts nothing but that the edits worked.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def measure(repo: Path, edits: int) -> dict[str, Any]:
    """Set up a device with 100 accounts and a folder backup in `repo`'s code; time `edits` edits."""
    sys.path.insert(0, str(repo))
    from authvault import db as database
    from authvault.config import Settings
    from authvault.interop.google_migration import build_migration_uris
    try:
        from authvault.model import Account
    except ImportError:  # a checkout from before authvault/model.py
        from authvault.otp import Account  # type: ignore[no-redef]
    from authvault.vault import envelope
    from authvault.web import create_app
    from tests.conftest import SETUP_TOKEN, Api

    counts = {"decrypts": 0, "vault_writes": 0}
    real_open_db = envelope.open_db

    def counting_open_db(*args: Any, **kwargs: Any) -> Any:
        counts["decrypts"] += 1
        return real_open_db(*args, **kwargs)

    envelope.open_db = counting_open_db  # type: ignore[assignment]
    real_connect = database.connect

    def traced_connect(*args: Any, **kwargs: Any) -> Any:
        conn = real_connect(*args, **kwargs)

        def trace(sql: str) -> None:
            if sql.lstrip().upper().startswith(("UPDATE VAULTS", "INSERT INTO VAULTS", "REPLACE INTO VAULTS")):
                counts["vault_writes"] += 1
        conn.set_trace_callback(trace)
        return conn

    database.connect = traced_connect  # type: ignore[assignment]
    for name, module in list(sys.modules.items()):  # modules that imported `connect` by name
        if name.startswith("authvault") and getattr(module, "connect", None) is real_connect:
            module.connect = traced_connect  # type: ignore[attr-defined]

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        settings = Settings(data_dir=base / "data", setup_token=SETUP_TOKEN, origin="http://localhost",
                            lock_minutes=60, scrypt_n=2**4)
        app = create_app(settings, {"TESTING": True})
        api = Api(app.test_client())
        api.setup()
        accounts = [Account(secret=hashlib.sha1(f"edit-{i}".encode()).digest(), issuer=f"Service {i}",
                            name=f"user{i}@example.com") for i in range(100)]
        uris, _ = build_migration_uris(accounts, batch_size=100)
        for uri in uris:
            assert api.post("/api/accounts", {"uri": uri}).status_code in (200, 201)
        (base / "backup").mkdir()
        resp = api.post("/api/backup/enable", {"target": {"kind": "folder", "path": str(base / "backup")}})
        assert resp.status_code in (200, 201), resp.get_json()
        listed = api.get("/api/codes").get_json()["accounts"]
        assert len(listed) == 100
        ids = [a["id"] for a in listed]
        times = []
        cpu = []
        one: dict[str, int] = {}
        for i in range(edits):
            counts.update(decrypts=0, vault_writes=0)
            t0, c0 = time.perf_counter(), time.process_time()
            resp = api.patch(f"/api/accounts/{ids[i % 100]}", {"note": f"edit {i}"})
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            assert resp.status_code == 200, resp.get_json()
            one = dict(counts)
        state = api.get("/api/backup").get_json()
        assert state["state"] == "on", state
    return {"median_ms": statistics.median(times) * 1000, "min_ms": min(times) * 1000,
            "cpu_ms": statistics.median(cpu) * 1000, **one}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds with --baseline")
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    parser.add_argument("--json", action="store_true", help="print one JSON line (used for --baseline)")
    parser.add_argument("--repo", type=Path, default=REPO, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        print(json.dumps(measure(args.repo, args.edits)))
        return

    def run(repo: Path) -> dict[str, Any]:
        out = subprocess.run([sys.executable, __file__, "--json", "--repo", str(repo), "--edits", str(args.edits)],
                             check=True, capture_output=True, text=True, cwd=repo).stdout
        return json.loads(out.strip().splitlines()[-1])

    print("| checkout | PATCH /api/accounts/<id>, 100 accounts, backup on (median) | min | CPU (median) "
          "| decrypts | vault writes |")
    print("| --- | --- | --- | --- | --- | --- |")
    ours: list[float] = []
    theirs: list[float] = []
    ours_cpu: list[float] = []
    theirs_cpu: list[float] = []
    for _ in range(args.rounds if args.baseline else 1):
        for label, repo in (("this", REPO), ("baseline", args.baseline)):
            if repo is None:
                continue
            r = run(repo)
            (ours if label == "this" else theirs).append(r["median_ms"])
            (ours_cpu if label == "this" else theirs_cpu).append(r["cpu_ms"])
            print(f"| {label} | {r['median_ms']:.1f} ms | {r['min_ms']:.1f} ms | {r['cpu_ms']:.1f} ms "
                  f"| {r['decrypts']} | {r['vault_writes']} |")
    if theirs:
        ratio = statistics.median(ours) / statistics.median(theirs)
        cpu_ratio = statistics.median(ours_cpu) / statistics.median(theirs_cpu)
        print(f"\nthis checkout / baseline: {ratio:.2f} in time ({statistics.median(ours):.1f} ms against "
              f"{statistics.median(theirs):.1f} ms), {cpu_ratio:.2f} in CPU ({statistics.median(ours_cpu):.1f} ms "
              f"against {statistics.median(theirs_cpu):.1f} ms); medians of {len(ours)} alternating rounds")


if __name__ == "__main__":
    main()
