"""authvault/audit.py: the one owner of the audit_events table."""
from __future__ import annotations

import re
from pathlib import Path

from authvault import audit, db
from tests.paths import REPO


def test_events_come_back_newest_first_with_what_was_recorded(tmp_path: Path) -> None:
    conn = db.connect(tmp_path / "a.sqlite3")
    db.init_schema(conn)
    try:
        with db.transaction(conn):
            audit.record(conn, "unlock", device_id="d1", client="192.0.2.1")
            audit.record(conn, "unlock_failed", device_id="d1", detail="wrong passphrase", client="192.0.2.7")
            audit.record(conn, "device_added")
        got = audit.recent(conn, 2)
    finally:
        conn.close()
    assert [(e.kind, e.device_id, e.detail, e.client) for e in got] == [
        ("device_added", None, "", ""), ("unlock_failed", "d1", "wrong passphrase", "192.0.2.7")]
    assert got[0].at >= got[1].at


def test_no_other_module_touches_the_audit_table() -> None:
    """Raw SQL on audit_events lives in audit.py (db.py only creates the table)."""
    others = [str(p.relative_to(REPO)) for p in (REPO / "authvault").rglob("*.py")
              if p.name not in ("audit.py", "db.py")
              and re.search(r"(FROM|INTO|UPDATE|DELETE FROM)\s+audit_events", p.read_text(), re.I)]
    assert others == []
