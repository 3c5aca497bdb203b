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
