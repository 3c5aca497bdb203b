"""Where the shared third-party fixtures live (never copied into this repository)."""
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("AUTHVAULT_FIXTURES", REPO.parent / "shared" / "fixtures"))
