"""Benchmark imports: time to read a file of 1000 and 5000 accounts, and the HTTP preview and confirm.

Run from the repository root: `.venv/bin/python bench/bench_import.py [--runs 5] [--sizes 500,1000,5000]`.

In process. For each format (a plain Aegis vault, a text file of otpauth URIs, a 2FAS backup, a
2FAuth export, a Bitwarden JSON export) it times `importers.import_file` (detection plus parse)
and, through Flask's test client on a set-up device, `POST /api/import` as the preview and as the
confirm (which writes the vault once). Prints the least CPU time of N runs per size and, per format, how
the time grows from the smallest to the largest size, as the factor for 10x more accounts (10
means linear). Prints figures only; it asserts nothing.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from authvault.config import Settings  # noqa: E402
from authvault.interop import importers  # noqa: E402
from authvault.interop.export import export_aegis_plain, export_twofauth, export_uris  # noqa: E402
from authvault.model import Account
from authvault.otp import encode_secret, to_uri
from authvault.web import create_app  # noqa: E402
from tests.conftest import SETUP_TOKEN, Api  # noqa: E402


def make_accounts(count: int) -> list[Account]:
    """`count` distinct accounts: mostly TOTP, every tenth HOTP, every 50th Steam."""
    out = []
    for i in range(count):
        secret = hashlib.sha1(f"import-{i}".encode()).digest()
        kind = "steam" if i % 50 == 49 else "hotp" if i % 10 == 9 else "totp"
        out.append(Account(secret=secret, type=kind, issuer=f"Service {i}", name=f"user{i}@example.com",
                           digits=5 if kind == "steam" else 6, counter=i if kind == "hotp" else 0))
    return out


def twofas(accounts: list[Account]) -> bytes:
    services = [{"name": a.issuer, "secret": encode_secret(a.secret), "updatedAt": 1700000000000,
                 "otp": {"label": f"{a.issuer}:{a.name}", "account": a.name, "issuer": a.issuer,
                         "digits": a.digits, "period": a.period, "algorithm": a.algorithm,
                         "counter": a.counter, "tokenType": a.type.upper()},
                 "order": {"position": i}} for i, a in enumerate(accounts)]
    return json.dumps({"services": services, "schemaVersion": 4, "appOrigin": "android"}).encode()


def bitwarden(accounts: list[Account]) -> bytes:
    items = [{"id": str(i), "type": 1, "name": a.issuer, "login": {"username": a.name, "totp": to_uri(a)}}
             for i, a in enumerate(accounts)]
    return json.dumps({"encrypted": False, "folders": [], "items": items}).encode()


FORMATS: dict[str, Callable[[list[Account]], bytes]] = {
    "aegis (plain)": export_aegis_plain,
    "otpauth URIs": export_uris,
    "2FAS": twofas,
    "2FAuth": export_twofauth,
    "Bitwarden JSON": bitwarden,
}


def best_s(fn: Callable[[], object], runs: int) -> float:
    """The least CPU time this process spent in `fn` over `runs` runs. CPU time, not wall time:
    everything here runs in this one thread, and on a shared machine the other processes would
    otherwise be counted too (they still slow the caches a little)."""
    times = []
    for _ in range(runs):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def fresh_api(base: Path, name: str) -> Api:
    settings = Settings(data_dir=base / name, setup_token=SETUP_TOKEN, origin="http://localhost",
                        lock_minutes=60, scrypt_n=2**4)
    api = Api(create_app(settings, {"TESTING": True}).test_client())
    api.setup()
    return api


def upload(api: Api, data: bytes, confirm: bool) -> None:
    form = {"file": (io.BytesIO(data), "export"), **({"confirm": "true"} if confirm else {})}
    resp = api.post("/api/import", json=None, data=form, content_type="multipart/form-data")
    assert resp.status_code in (200, 201), resp.get_json()


def growth_per_10x(t_small: float, t_large: float, n_small: int, n_large: int) -> float:
    return (t_large / t_small) ** (1 / math.log10(n_large / n_small))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="1000,5000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    base = Path(tempfile.mkdtemp(prefix="authvault-import-"))
    print(f"# Import CPU time (Python {platform.python_version()}, best of {args.runs}, in process)\n")
    print("| format | what | " + " | ".join(f"{n} accounts" for n in sizes) + " | growth per 10x |")
    print("| --- | --- | " + " | ".join("---:" for _ in sizes) + " | ---: |")
    for fmt, build in FORMATS.items():
        files = {n: build(make_accounts(n)) for n in sizes}
        rows: dict[str, list[float]] = {"read (detect + parse)": [], "preview (HTTP)": [], "confirm (HTTP)": []}
        for n in sizes:
            data = files[n]
            assert len(importers.import_file(data).accounts) == n
            rows["read (detect + parse)"].append(best_s(lambda: importers.import_file(data), args.runs))
            api = fresh_api(base, f"{fmt}-{n}-p".replace(" ", "_"))
            rows["preview (HTTP)"].append(best_s(lambda: upload(api, data, False), args.runs))
            confirms = []
            for run in range(args.runs):  # each confirm on an empty device: every account is new
                api = fresh_api(base, f"{fmt}-{n}-c{run}".replace(" ", "_"))
                confirms.append(best_s(lambda: upload(api, data, True), 1))
            rows["confirm (HTTP)"].append(min(confirms))
        for what, times in rows.items():
            cells = " | ".join(f"{1000 * t:.0f} ms" for t in times)
            growth = growth_per_10x(times[0], times[-1], sizes[0], sizes[-1])
            print(f"| {fmt} | {what} | {cells} | {growth:.1f}x |")


if __name__ == "__main__":
    main()
