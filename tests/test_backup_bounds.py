"""Backup accounts are written by anyone with their password (issue 12, items 5 and 7).

What a backup account says is read with bounds: the holder's name shown in the conflict dialog,
the size of what the server sends, how long it may take, and what its errors may tell.
"""
from __future__ import annotations

import json

import pytest

from authvault.backup import objects
from authvault.backup.errors import BackupTampered, holder_json
from authvault.otp import Account
from authvault.vault import crypto, slots


def _object(device_name: str) -> bytes:
    master = crypto.new_master_key()
    slot = slots.recovery_slot(master, slots.new_recovery_key(), crypto.TEST_SCRYPT)
    holder = objects.Holder(device_id="d1", device_name="iPhone", count=1,
                            updated_at="2026-12-01T07:00:00Z", generation=1, backup_id="b1")
    data = objects.build(holder, [Account(secret=b"12345678901234567890", issuer="GitHub", name="a")],
                         master, slot)
    obj = json.loads(data)
    obj["holder"]["device_name"] = device_name
    return json.dumps(obj).encode()


def test_holder_name_is_bounded_where_it_is_read_and_shown() -> None:
    hostile = "\u202eenohPi" + "\u0007\u200b" + "Bob's iPad " * 900  # bidi override, bell, 9,900 characters
    parsed = objects.parse(_object(hostile), "etag")
    name = parsed.holder.device_name
    assert len(name) <= 60 and name.endswith("\u2026")
    assert not any(ch in name for ch in "\u202e\u0007\u200b")
    shown = holder_json(parsed.holder)
    assert shown is not None and shown["device_name"] == name


def test_holder_name_of_absurd_length_is_a_tampered_backup() -> None:
    with pytest.raises(BackupTampered):
        objects.parse(_object("x" * 1_000_000), "etag")


def test_ordinary_holder_name_is_shown_as_written() -> None:
    assert objects.parse(_object("Anna’s iPhone 15"), "etag").holder.device_name == "Anna’s iPhone 15"
