"""Where the shared third-party fixtures live (never copied into this repository)."""
import functools
import json
import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("AUTHVAULT_FIXTURES", REPO.parent / "shared" / "fixtures"))


@functools.cache
def fixture_json(relative: str) -> Any:
    """A JSON file of the fixtures, read when a test first needs it: without the fixture folder only
    that test is skipped (tests/plugins/suite.py), not every test of its module."""
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))
