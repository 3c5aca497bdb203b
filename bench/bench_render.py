"""Benchmark the server time to render the account list page (GET /) with 10, 100 and 1000 accounts.

Run from the repository root: `.venv/bin/python bench/bench_render.py [--runs 30] [--profile]`.

In process, with Flask's test client (no network, no gunicorn): the figure is the server's own work
for one request: find the device, unwrap the session key, decrypt the vault, compute every code,
render the template. Prints the median of N requests per size and, as a breakdown, the median of
the vault load and the mean time computing the codes (the rest is the template, session and Flask). `--profile` prints cProfile's top functions for the largest size.
Prints figures only (Markdown); it asserts nothing.
"""
from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import platform
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from authvault.config import Settings  # noqa: E402
from authvault.interop.google_migration import build_migration_uris  # noqa: E402
from authvault.model import Account
from authvault.vault import store as accts  # noqa: E402
from authvault.web import create_app, pages  # noqa: E402
from tests.conftest import SETUP_TOKEN, Api  # noqa: E402


def make_accounts(count: int) -> list[Account]:
    """`count` distinct TOTP accounts (every tenth an HOTP one), like a real list."""
    out = []
    for i in range(count):
        secret = hashlib.sha1(f"render-{i}".encode()).digest()
        kind = "hotp" if i % 10 == 9 else "totp"
        out.append(Account(secret=secret, type=kind, issuer=f"Service {i}", name=f"user{i}@example.com"))
    return out


def build(count: int, base: Path) -> Api:
    """A set-up app holding `count` accounts, added through the API in export batches of 100."""
    settings = Settings(data_dir=base / f"data{count}", setup_token=SETUP_TOKEN, origin="http://localhost",
                        lock_minutes=60, scrypt_n=2**4)
    app = create_app(settings, {"TESTING": True})
    api = Api(app.test_client())
    api.setup()
    uris, left_out = build_migration_uris(make_accounts(count), batch_size=100)
    assert not left_out
    for uri in uris:
        resp = api.post("/api/accounts", {"uri": uri})
        assert resp.status_code in (200, 201), resp.get_json()
    codes = api.get("/api/codes").get_json()
    assert len(codes["accounts"]) == count, len(codes["accounts"])
    return api


def median_ms(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="requests per size (median reported)")
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--profile", action="store_true", help="cProfile the largest size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    base = Path(tempfile.mkdtemp(prefix="authvault-render-"))
    print(f"# Server time to render the list page (Python {platform.python_version()}, "
          f"median of {args.runs} requests, Flask test client in process)\n")
    print("| accounts | GET / (whole request) | load + decrypt the vault | codes (mean) | the rest: "
          "template, session, Flask | page size | GET / with its first 24 rows drawn (list options cookie) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    apis = {}
    loads: list[float] = []
    real_load = accts.load_library

    def timed_load(*a, **kw):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return real_load(*a, **kw)
        finally:
            loads.append(time.perf_counter() - t)

    accts.load_library = timed_load  # the page calls accts.load_library (accounts and groups): time that part of it
    code_time = [0.0]
    real_view = pages.account_view

    def timed_view(*a, **kw):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return real_view(*a, **kw)
        finally:
            code_time[0] += time.perf_counter() - t

    pages.account_view = timed_view  # the codes of every account (views.account_view, as pages.py calls it)
    for count in sizes:
        api = apis[count] = build(count, base)
        client = api.client

        def page() -> None:
            resp = client.get("/", headers={"Accept": "text/html"})
            assert resp.status_code == 200 and b'id="accounts"' in resp.data

        page()  # warm: templates compiled, connection paths exercised
        loads.clear()
        code_time[0] = 0.0
        whole = median_ms(page, args.runs)
        load = statistics.median(loads) * 1000
        codes = code_time[0] / args.runs * 1000
        size = len(client.get("/").data)
        # the every-day page: list.js has told the server this browser's options (list_rows.py)
        client.set_cookie("authvault_list", "c1.h0.n0.manual", domain="localhost")
        page()
        rows = median_ms(page, args.runs)
        client.delete_cookie("authvault_list", domain="localhost")
        print(f"| {count} | {whole:.1f} ms | {load:.1f} ms | {codes:.1f} ms | "
              f"{whole - load - codes:.1f} ms | {size / 1024:.0f} KiB | {rows:.1f} ms |")
    print("\n(aim: 1000 accounts under 50 ms)")
    if args.profile:
        client = apis[sizes[-1]].client
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(5):
            client.get("/")
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(30)
        print(f"\n## cProfile, GET / with {sizes[-1]} accounts, 5 requests\n\n```\n{out.getvalue()}\n```")


if __name__ == "__main__":
    main()
