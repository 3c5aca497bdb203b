"""pytest plugin: the rules of the whole suite, in one place (registered by tests/conftest.py).

- Markers by place, so test files need not carry them: everything under tests/browser/ is
  `browser`; the modules in SLOW_MODULES (crash recovery, several worker processes, concurrency)
  are `slow`. The quick loop is `-m "not browser and not slow"` on every core: `scripts/test --quick`.
- Third-party fixtures (tests/paths.py: ../shared/fixtures or $AUTHVAULT_FIXTURES): when the folder
  is missing, the tests that read it skip, saying where the fixtures come from, and the
  others run. Under CI=true a missing folder stops the run.
- Translation catalogs older than their .po are compiled at the start of a run.
- `missing(reason)`: what a test does when something it needs is not installed: skip, or fail
  under CI (scripts/test installs everything, so CI cannot pass without running every test).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.paths import FIXTURES

TESTS = Path(__file__).resolve().parents[1]
# Modules whose tests take seconds each: real crashes (kill -9), several gunicorn workers, many
# processes or threads racing. Paths under tests/ (tests/test_layout.py checks each exists).
SLOW_MODULES = frozenset({
    "backup/test_crash_safety.py",  # kill -9 of a gunicorn under load, many times (about 40-70 s)
    "test_multiworker.py",          # several gunicorn workers serving one device
    "test_db.py",                   # many processes opening one new database at once
    "devices/test_unlock_race.py",  # two gunicorn workers, 24 wrong unlocks at once
    "web/test_server_faults.py",    # gunicorn on real full and read-only file systems, an idle purge
    "backup/test_random.py",        # two devices' conflict choices in many seeded orders (about 30 s)
})
# Single tests of several seconds each elsewhere (names, so they stay marked when modules move):
# killed processes, twenty racing writers, and the largest photo decodes.
SLOW_TESTS = frozenset({
    "test_pusher_killed_at_random_moments_leaves_a_complete_backup",
    "test_twenty_concurrent_enables_leave_exactly_one_holder",
    "test_server_stopped_mid_backup_is_unreachable_and_nothing_is_lost",
    "test_decodes_heic_photo_from_a_phone_sized_frame",
    "test_decodes_google_migration_qr_codes_from_scito_export",
    "test_no_acknowledged_account_is_lost_whatever_the_order_of_choices",  # random rounds of choices
    "test_an_idle_session_is_purged_on_time_without_any_request",  # waits for the server's purge
})

FIXTURES_LINE = (
    f"third-party test fixtures not found at {FIXTURES}: they are export files, photos and vectors "
    "from other projects (each folder's SOURCES.md names its origin and licence), kept outside this "
    "repository; put them at ../shared/fixtures beside the clone or set AUTHVAULT_FIXTURES"
)


def in_ci() -> bool:
    """Whether this is a CI run (CI=true, as .ci/run and most CI services set it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(reason: str) -> None:
    """Skip the current test (or module) for `reason`; under CI, fail instead."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def fixtures_present() -> bool:
    """Whether the third-party fixture folder is there."""
    return FIXTURES.is_dir()


def _is_fixture_file(exc: BaseException) -> bool:
    name = getattr(exc, "filename", None)
    if not name:
        return False
    try:
        Path(name).resolve().relative_to(FIXTURES.resolve())
    except ValueError:
        return False
    return True


def skip_for_fixtures() -> None:
    """Skip the current test or module for want of the fixture folder (one place, so pytest's
    summary shows one line for all of them)."""
    pytest.skip(FIXTURES_LINE, allow_module_level=True)


def compile_stale_catalogs() -> None:
    """Compile each translation catalog whose .mo is missing or older than its .po, so a plain
    `python -m pytest` (without scripts/test, which compiles them) never tests stale translations."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in sorted((TESTS.parent / "authvault" / "translations").glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f)
        tmp = mo.with_name(f".{mo.name}.{os.getpid()}")
        with tmp.open("wb") as f:
            write_mo(f, catalog)  # fuzzy entries left out, as pybabel compile does
        tmp.replace(mo)


def pytest_configure(config: pytest.Config) -> None:
    if in_ci() and not fixtures_present():
        raise pytest.UsageError(FIXTURES_LINE + " (CI is set: the fixtures must be there)")
    compile_stale_catalogs()


def pytest_report_header(config: pytest.Config) -> str | None:
    if not fixtures_present():
        return "SKIPPING what needs them: " + FIXTURES_LINE
    return None


class _FixtureAwareModule(pytest.Module):
    """A test module that reads a fixture file at import: skipped (not an error) without the folder."""

    def _getobj(self) -> Any:
        try:
            return super()._getobj()
        except FileNotFoundError as exc:
            if not fixtures_present() and _is_fixture_file(exc):
                skip_for_fixtures()
            raise


def pytest_pycollect_makemodule(module_path: Path, parent: Any) -> pytest.Module | None:
    if fixtures_present() or module_path.name == "conftest.py":
        return None
    return _FixtureAwareModule.from_parent(parent, path=module_path)


def _skipping_for_fixtures() -> Any:
    """Run a test phase; a fixture file opened while the folder is missing skips, not fails."""
    try:
        return (yield)
    except FileNotFoundError as exc:
        if not fixtures_present() and _is_fixture_file(exc):
            skip_for_fixtures()
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    """A fixture (pytest's kind) that reads a fixture file: the test is skipped."""
    return (yield from _skipping_for_fixtures())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """A test that opens a fixture file while the folder is missing is skipped, not failed."""
    return (yield from _skipping_for_fixtures())


def _under_tests(path: Path) -> str:
    """`path` relative to tests/, with forward slashes ("backup/test_random.py")."""
    try:
        return path.resolve().relative_to(TESTS).as_posix()
    except ValueError:
        return path.name


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    browser_dir = TESTS / "browser"
    for item in items:
        path = Path(str(item.path))
        if browser_dir in path.parents:
            item.add_marker(pytest.mark.browser)
        name = getattr(item, "originalname", None) or item.name
        if _under_tests(path) in SLOW_MODULES or name in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
