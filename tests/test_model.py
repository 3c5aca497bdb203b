"""authvault/model.py: one rule for "the same account", one type for a skipped entry."""
from __future__ import annotations

from authvault.model import Account, Skipped, account_key, same_account


def test_the_same_account_is_the_same_secret_and_type_whatever_its_name() -> None:
    a = Account(secret=b"1" * 20, issuer="Air Canada", name="Benjamin")
    assert same_account(a, Account(secret=b"1" * 20, issuer="air  canada", name=" BENJAMIN"))
    assert same_account(a, Account(secret=bytearray(b"1" * 20), issuer="Air Canada", name="Other"))  # renamed
    assert not same_account(a, Account(secret=b"2" * 20, issuer="Air Canada", name="Benjamin"))
    assert not same_account(a, Account(secret=b"1" * 20, type="hotp", issuer="Air Canada", name="Benjamin"))
    assert account_key(a) == (b"1" * 20, "totp")


def test_merging_uses_the_same_rule() -> None:
    """Adding, importing, restoring and merging all go through vault/store.merge_new: what it
    skips as a duplicate is exactly what same_account says."""
    from authvault.vault.store import merge_new
    mine = [Account(secret=b"1" * 20, issuer="Air Canada", name="Benjamin")]
    new = [Account(secret=b"1" * 20, issuer="Renamed", name="x"), Account(secret=b"1" * 20, type="hotp")]
    merged, added, skipped = merge_new(mine, new)
    assert [a.type for a in added] == ["hotp"]
    assert [(s.code, s.issuer) for s in skipped] == [("duplicate", "Renamed")]
    assert all(any(same_account(n, m) for m in merged) for n in new)


def test_a_skipped_entry_says_why_in_english_with_its_values() -> None:
    s = Skipped("Steam", "me", "unsupported_type", "Accounts of type %(type)s are not supported.", {"type": "motp"})
    assert s.text() == "Accounts of type motp are not supported."
    assert Skipped("", "", "duplicate", "Already here.").text() == "Already here."
