"""What QR codes hold (scanning.read_codes): one reading for the image upload and the viewfinder."""
from __future__ import annotations

from authvault import scanning
from authvault.interop import google_migration
from authvault.model import Account

GITHUB = "otpauth://totp/GitHub:octocat?secret=JBSWY3DPEHPK3PXP&issuer=GitHub"


def _export(*names: str) -> str:
    accounts = [Account(secret=b"12345678901234567890", issuer=n, name="me") for n in names]
    uris, left_out = google_migration.build_migration_uris(accounts, 10)
    assert len(uris) == 1 and left_out == []
    return uris[0]


def test_an_otpauth_code_is_one_account() -> None:
    found = scanning.read_codes([GITHUB])
    assert [(a.issuer, a.name) for a in found.accounts] == [("GitHub", "octocat")]
    assert found.refused == [] and found.batch is None


def test_a_code_that_holds_no_account_is_refused_saying_what_it_holds() -> None:
    found = scanning.read_codes(["WIFI:S:home;T:WPA;P:secret;;", GITHUB])
    assert [a.issuer for a in found.accounts] == ["GitHub"]
    assert [e.code for e in found.refused] == ["not_an_account"]


def test_an_export_batch_is_read_once() -> None:
    uri = _export("Slack", "Dropbox")
    found = scanning.read_codes([uri])
    assert [a.issuer for a in found.accounts] == ["Slack", "Dropbox"]
    assert found.batch is not None and (found.batch.index, found.batch.size) == (0, 1)
    again = scanning.read_codes([uri], already_read={(found.batch.id, found.batch.index)})
    assert again.accounts == [] and again.batch == found.batch
