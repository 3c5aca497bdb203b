"""Fields of other apps' entries: base64 and hex, Java byte arrays, loosely typed numbers and
text, algorithm names, "Issuer:name" labels, and the `Account` they make.

The secret's base32 is not here: every importer decodes it with `authvault.otp.decode_secret`,
the one acceptance rule.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from ....errors import N_
from ....model import Account
from ....otp import ALGORITHMS
from ..base import EntryRejected, unsupported_type


def b64decode(value: str | bytes) -> bytes:
    """Decode standard or URL-safe base64 strictly (whitespace ignored)."""
    if isinstance(value, str):
        value = value.encode("ascii")
    value = re.sub(rb"\s", b"", value).replace(b"-", b"+").replace(b"_", b"/")
    value += b"=" * (-len(value) % 4)
    return base64.b64decode(value, validate=True)


def hexdecode(value: Any) -> bytes:
    """Decode a hex string (raises ValueError)."""
    if not isinstance(value, str):
        raise ValueError("not a string")
    return bytes.fromhex(value.strip())


def signed_bytes(values: Any) -> bytes:
    """Bytes from a Java byte[] written as a JSON list of signed integers."""
    if not isinstance(values, list) or not all(
        isinstance(v, int) and -128 <= v <= 255 for v in values
    ):
        raise ValueError("not a byte array")
    return bytes(v & 0xFF for v in values)


def norm_algorithm(value: Any, default: str = "SHA1") -> str:
    """'SHA1', 'sha256', 'HmacSHA512', 'SHA-1'... -> one of ALGORITHMS (else reject the entry)."""
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise EntryRejected(N_("The algorithm is not valid."))
    name = value.upper().replace("HMAC", "").replace("-", "").replace("_", "").strip()
    if name not in ALGORITHMS:
        raise EntryRejected(
            N_("The algorithm %(algorithm)s is not supported."),
            "unsupported_type",
            algorithm=value[:20],
        )
    return name


def as_int(value: Any, default: int) -> int:
    """An integer field that apps write as a number or a string; `default` when absent."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ValueError("boolean is not a number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not an integer")
        return int(value)
    if isinstance(value, str):
        return int(value.strip())
    if isinstance(value, int):
        return value
    raise ValueError("not a number")


def as_str(value: Any) -> str:
    """A text field that may be absent or null."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("not a string")
    return value.strip()


def account(
    *,
    secret: bytes,
    type: Any = "totp",
    issuer: Any = "",
    name: Any = "",
    algorithm: Any = "SHA1",
    digits: Any = None,
    period: Any = None,
    counter: Any = None,
    note: Any = "",
    group: Any = "",
) -> Account:
    """Build an `Account` from loosely typed fields, rejecting unsupported types."""
    kind = (type or "totp").lower() if isinstance(type, str) else ""
    if kind not in ("totp", "hotp", "steam"):
        raise unsupported_type(str(type)[:20] if type is not None else "?")
    if kind == "steam":
        default_digits = 5
    else:
        default_digits = 6
    return Account(
        secret=secret,
        type=kind,  # type: ignore[arg-type]
        issuer=as_str(issuer),
        name=as_str(name),
        algorithm=norm_algorithm(algorithm),
        digits=as_int(digits, default_digits),
        period=as_int(period, 30) if kind != "hotp" else 30,
        counter=as_int(counter, 0) if kind == "hotp" else 0,
        note=as_str(note),
        group=as_str(group),
    )


def split_label(label: str, issuer: str = "") -> tuple[str, str]:
    """Split an 'Issuer:Name' label; an explicit issuer wins and its prefix is removed."""
    label = label.strip()
    if ":" in label:
        prefix, rest = label.split(":", 1)
        if not issuer or prefix.strip() == issuer.strip():
            return (issuer or prefix).strip(), rest.strip()
    return issuer.strip(), label
