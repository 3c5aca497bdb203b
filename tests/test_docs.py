"""The README documents every setting the code reads (as datasette's test_docs does for its own)."""
from __future__ import annotations

import re

from tests.paths import REPO


def test_every_environment_variable_is_in_the_readme_configuration_table() -> None:
    sources = [*REPO.glob("authvault/**/*.py"), REPO / "gunicorn.conf.py", REPO / "app.py"]
    used = {name for path in sources for name in re.findall(r"\bAUTHVAULT_[A-Z_]+\b", path.read_text())}
    used -= {"AUTHVAULT_FIXTURES"}  # tests only
    readme = (REPO / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`(AUTHVAULT_[A-Z_]+)`", table))
    assert used, "no settings found: the scan is broken"
    assert sorted(used - documented) == []


def _readme() -> str:
    return (REPO / "README.md").read_text()


def _documented_names() -> set[str]:
    return set(re.findall(r"`([a-z][a-z0-9_-]*)`", _readme()))


def test_every_backup_kind_is_in_the_readme() -> None:
    from authvault.backup import KINDS
    assert KINDS, "no backup kinds registered"
    assert sorted(set(KINDS) - _documented_names()) == []


def test_every_api_route_is_in_the_readme(app) -> None:  # type: ignore[no-untyped-def]
    """Each /api/ route (variables written as <...>) appears in the README's API tables."""
    def norm(path: str) -> str:
        return re.sub(r"<[^>]*>", "<>", path)
    documented = {norm(p) for p in re.findall(r"(/api/[\w/<>.-]*)", _readme())}
    routes = {norm(rule.rule) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")}
    assert len(routes) > 30, "the route scan is broken"
    assert sorted(routes - documented) == []


def error_codes() -> set[str]:
    """Every error code the code can answer with: AuthVaultError("code", N_(...)) and its
    subclasses, ApiError(status, "code", ...), `code = "..."` on error classes, error_response."""
    codes: set[str] = set()
    for path in REPO.glob("authvault/**/*.py"):
        if path.name in ("config.py", "first_run.py"):  # refused at start, in the terminal: not the API
            continue
        text = path.read_text()
        codes |= set(re.findall(r'"([a-z][a-z_]+)"\s*,\s*(?:\n\s*)?N_\(', text))
        codes |= set(re.findall(r'ApiError\(\s*\d+\s*,\s*"([a-z][a-z_]+)"', text))
        codes |= set(re.findall(r'^\s+code\s*=\s*"([a-z][a-z_]+)"', text, re.M))
        codes |= set(re.findall(r'error_response\(\s*"([a-z][a-z_]+)"', text))
        codes |= set(re.findall(r'\bcode(?:: str)? ?= ?"([a-z][a-z_]+)"', text))
        codes |= set(re.findall(r'^\s+\d{3}: \("([a-z][a-z_]+)"', text, re.M))  # web/errors.py's HTTP errors
    return codes


def test_every_api_error_code_is_in_the_readme() -> None:
    codes = error_codes()
    assert {"account_not_found", "backup_taken", "wrong_passphrase"} <= codes, "the code scan is broken"
    readme = _readme()
    table = readme.split("### Error codes", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z][a-z_]+)` \|", table, re.M))
    assert sorted(codes - listed) == []
