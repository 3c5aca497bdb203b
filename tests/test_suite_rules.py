"""The suite's own rules (tests/plugins/suite.py), run as a person runs them: pytest in a subprocess.

Without the third-party fixture folder the tests that read it are skipped with one line saying
where the fixtures come from, and the rest run; under CI=true the run stops instead. Markers come
from where a test lives, so the quick loop leaves out the browser and the slow tests.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.paths import REPO
from tests.plugins.suite import SLOW_MODULES


def pytest_run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "CI"}
    full.update(env)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=REPO, env=full,
                          capture_output=True, text=True, timeout=300)


def test_missing_fixtures_skip_with_one_line_and_the_rest_runs(tmp_path: Path) -> None:
    # test_export.py reads a fixture in some tests; test_vault.py reads one when it is imported
    proc = pytest_run("-q", "-rs", "tests/interop/test_export.py", "tests/vault/test_vault.py",
                      AUTHVAULT_FIXTURES=str(tmp_path / "nowhere"))
    assert proc.returncode == 0, proc.stdout
    skipped = [line for line in proc.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, skipped
    assert f"third-party test fixtures not found at {tmp_path / 'nowhere'}" in skipped[0]
    assert "SOURCES.md" in skipped[0] and "../shared/fixtures" in skipped[0]
    assert re.search(r"\b[1-9]\d* passed", proc.stdout)  # the tests that need no fixture ran
    assert "error" not in proc.stdout.lower()


def test_missing_fixtures_fail_under_ci(tmp_path: Path) -> None:
    proc = pytest_run("-q", "tests/interop/test_export.py", AUTHVAULT_FIXTURES=str(tmp_path / "nowhere"), CI="true")
    assert proc.returncode != 0
    assert "third-party test fixtures not found" in proc.stderr + proc.stdout
    assert "CI is set" in proc.stderr + proc.stdout


def collected(*args: str) -> set[str]:
    proc = pytest_run("-q", "--collect-only", *args)
    assert proc.returncode in (0, 5), proc.stdout + proc.stderr
    return {line.split("::")[0] for line in proc.stdout.splitlines() if "::" in line}


def test_markers_follow_the_place_of_a_test() -> None:
    """Only the files named are collected (a whole-suite collection costs seconds of CPU)."""
    browser_files = {p.relative_to(REPO).as_posix() for p in (REPO / "tests" / "browser").glob("test_*.py")}
    some = ["tests/browser", "tests/backup/test_crash_safety.py", "tests/test_multiworker.py", "tests/test_scripts.py"]
    assert collected("-m", "browser", *some) == browser_files
    assert collected("-m", "not browser and not slow", *some) == {"tests/test_scripts.py"}


def test_test_folders_mirror_the_packages() -> None:
    """tests/<package>/ holds the tests of authvault/<package>/; each slow module named exists."""
    support = {"browser", "plugins", "data", "__pycache__"}
    folders = {p.name for p in (REPO / "tests").iterdir() if p.is_dir() and p.name not in support}
    packages = {p.parent.name for p in (REPO / "authvault").glob("*/__init__.py")}
    assert folders <= packages, folders - packages
    for name in folders:
        assert (REPO / "tests" / name / "__init__.py").is_file(), name
    for path in SLOW_MODULES:
        assert (REPO / "tests" / path).is_file(), path
