"""Helpers the importers share: decoding secrets and text, safe XML, SQLite, JSON and crypto.

Everything here reads untrusted input: XML refuses any DTD (so no entity expansion), SQLite
databases are opened read-only from an in-memory copy with a work budget, key derivation
parameters read from a file are bounded before use.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import json
import re
import sqlite3
import time
import xml.parsers.expat
from typing import Any, Callable, Iterator, TypeVar

from cryptography.exceptions import InvalidTag  # noqa: F401 - re-exported for the importers
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from .... import gates
from ....errors import N_
from ....model import Account
from ....otp import ALGORITHMS
from ..base import DatabaseLimit, EntryRejected, KdfCostRefused, unsupported_type

SQLITE_MAGIC = b"SQLite format 3\x00"


T = TypeVar("T")

# What one import has already worked out about a file (its text, its JSON, its SQLite tables),
# so that detection and parsing read the file once however many detectors look at it. Active
# only inside `reading_once()`; cleared when the import ends (it may hold secrets).
_MEMO: contextvars.ContextVar[dict[tuple[str, int], tuple[Any, Any]] | None] = \
    contextvars.ContextVar("importer_memo", default=None)


@contextlib.contextmanager
def reading_once() -> Iterator[None]:
    """Within this block, the helpers below compute each of their results once per file."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def _memo(kind: str, data: Any, compute: Callable[[], T]) -> T:
    memo = _MEMO.get()
    if memo is None:
        return compute()
    key = (kind, id(data))
    hit = memo.get(key)
    if hit is not None and hit[0] is data:  # the same object, not a reused id
        outcome = hit[1]
    else:
        try:
            outcome = (True, compute())
        except Exception as exc:  # noqa: BLE001 - remembered and raised again, as computed
            outcome = (False, exc)
        memo[key] = (data, outcome)
    if outcome[0]:
        return outcome[1]  # type: ignore[no-any-return]
    raise outcome[1]


def text(data: bytes) -> str:
    """The file as UTF-8 text, without a byte-order mark."""
    return _memo("text", data, lambda: data.decode("utf-8-sig"))


def looks_like_text(data: bytes) -> bool:
    """Whether `data` decodes as UTF-8 text without NUL bytes."""
    if b"\x00" in data:
        return False
    try:
        text(data)
    except UnicodeDecodeError:
        return False
    return True


def load_json(data: bytes | str) -> Any:
    """Parse JSON from bytes or text (raises ValueError on anything else)."""
    if isinstance(data, bytes):
        raw = data
        return _memo("json", raw, lambda: json.loads(text(raw)))
    return json.loads(data)


def peek_json(data: bytes) -> Any:
    """`load_json` for detection: None when the data is not JSON."""
    stripped = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] not in (b"{", b"["):
        return None
    try:
        return load_json(data)
    except (ValueError, RecursionError):
        return None


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


# -- XML (Android shared preferences) ----------------------------------------------------------


class _NoDtd(ValueError):
    pass


def android_prefs(data: bytes) -> dict[str, str]:
    """The entries of an Android shared_prefs XML file (<map><string name=..>text</string>...).

    Values of <int>, <long>, <boolean> and <float> come from their `value` attribute. A DTD or
    entity declaration is refused outright: these files never carry one.
    """
    parser = xml.parsers.expat.ParserCreate()
    result: dict[str, str] = {}
    stack: list[str] = []
    current: dict[str, Any] = {}

    def refuse(*_args: Any) -> None:
        raise _NoDtd("DTDs are not allowed")

    def start(tag: str, attrs: dict[str, str]) -> None:
        stack.append(tag)
        if len(stack) == 1 and tag != "map":
            raise ValueError("not a shared preferences file")
        if len(stack) == 2:
            current.clear()
            current["name"] = attrs.get("name", "")
            current["value"] = attrs.get("value")
            current["text"] = []

    def end(tag: str) -> None:
        if len(stack) == 2 and current.get("name") is not None:
            value = current["value"] if current["value"] is not None else "".join(current["text"])
            result[current["name"]] = value
        stack.pop()

    def chars(content: str) -> None:
        if len(stack) == 2:
            current["text"].append(content)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.Parse(data, True)
    if not result and b"<map" not in data:
        raise ValueError("not a shared preferences file")
    return result


def is_android_prefs(data: bytes) -> bool:
    """Cheap check: an XML document whose root is <map>."""
    head = data[:400].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        return False
    return b"<map" in head


# -- SQLite ------------------------------------------------------------------------------------


#: Bounds for reading an SQLite file another app wrote (Google Authenticator, Microsoft
#: Authenticator, Stratum). Real ones hold tens of accounts in a few KB; a hostile one can declare a
#: generated column that computes a 900 MB blob from an 8 KB file, or a schema that loops. So:
#: every string or blob at most 64 KiB (SQLite itself refuses to make a longer one), at most 10,000
#: rows and 16 MiB of values read, at most 10 M virtual machine steps and 5 s, and no ATTACH.
SQLITE_MAX_VALUE_BYTES = 64 * 1024
SQLITE_MAX_ROWS = 10_000
SQLITE_MAX_TOTAL_BYTES = 16 * 1024 * 1024
SQLITE_MAX_STEPS = 10_000_000
SQLITE_MAX_SECONDS = 5.0
_SQLITE_LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: SQLITE_MAX_VALUE_BYTES,
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 100_000,
    sqlite3.SQLITE_LIMIT_COLUMN: 200,
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 100,
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 10,
    sqlite3.SQLITE_LIMIT_FUNCTION_ARG: 16,
    sqlite3.SQLITE_LIMIT_ATTACHED: 0,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 1_000,
    sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER: 100,
    sqlite3.SQLITE_LIMIT_TRIGGER_DEPTH: 1,
    sqlite3.SQLITE_LIMIT_WORKER_THREADS: 0,
}


@contextlib.contextmanager
def sqlite_db(data: bytes) -> Iterator[sqlite3.Connection]:
    """Open SQLite database bytes in memory (the secrets never touch the disk), read-only.

    A WAL-mode file is switched to the rollback journal in the copy (SQLite cannot open a WAL
    database from memory). The limits above are set before the file's schema is read;
    `trusted_schema` is off; a progress handler stops a query after its step or time budget.
    Going over a limit raises `DatabaseLimit` (a clear refusal), never a long wait.
    """
    if not data.startswith(SQLITE_MAGIC):
        raise ValueError("not an SQLite database")
    image = bytearray(data)
    if image[18:20] == b"\x02\x02":
        image[18:20] = b"\x01\x01"
    conn = sqlite3.connect(":memory:")
    try:
        for limit, value in _SQLITE_LIMITS.items():
            conn.setlimit(limit, value)
        conn.deserialize(bytes(image))
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute("PRAGMA cache_size = -2048")  # 2 MiB of page cache at most
        steps = [0]
        deadline = time.monotonic() + SQLITE_MAX_SECONDS

        def budget() -> int:
            steps[0] += 1
            return 1 if steps[0] * 1000 > SQLITE_MAX_STEPS or time.monotonic() > deadline else 0

        conn.set_progress_handler(budget, 1000)
        conn.row_factory = sqlite3.Row
        try:
            yield conn
        except sqlite3.DataError as exc:  # "string or blob too big": a value over the length limit
            raise DatabaseLimit("a value is too long") from exc
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise DatabaseLimit("the query took too long") from exc
            if "too big" in str(exc) or "too many" in str(exc) or "too long" in str(exc):
                raise DatabaseLimit("the schema is too large") from exc
            raise
    finally:
        conn.close()


def sqlite_tables(data: bytes) -> dict[str, set[str]]:
    """Table name -> column names of an SQLite database (for detection)."""
    return _memo("sqlite_tables", data, lambda: _sqlite_tables(data))


def _sqlite_tables(data: bytes) -> dict[str, set[str]]:
    tables: dict[str, set[str]] = {}
    with sqlite_db(data) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for name in names[:200]:
            cols = {r[1] for r in conn.execute(f'PRAGMA table_info("{name.replace(chr(34), "")}")')}
            tables[name] = cols
    return tables


def sqlite_rows(data: bytes, table: str) -> list[dict[str, Any]]:
    """Every row of the real table `table` (not a view) as a dict, within the bounds above."""
    with sqlite_db(data) as conn:
        kind = conn.execute("SELECT type FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        if kind is None or kind[0] != "table":
            raise ValueError("no such table")
        cur = conn.execute(f'SELECT * FROM "{table}"')
        rows: list[dict[str, Any]] = []
        total = 0
        for row in cur:
            if len(rows) >= SQLITE_MAX_ROWS:
                raise DatabaseLimit("too many rows")
            total += sum(len(v) if isinstance(v, (str, bytes)) else 8 for v in row)
            if total > SQLITE_MAX_TOTAL_BYTES:
                raise DatabaseLimit("too much data")
            rows.append(dict(row))
        return rows


# -- crypto ------------------------------------------------------------------------------------


#: The most PBKDF2 iterations a file may ask for: the apps write 1,000 (Authy) to 160,000
#: (andOTP, FreeOTP 100,000); one million takes 1-2 s here. A file asking more is refused.
PBKDF2_MAX_ITERATIONS = 1_000_000


def pbkdf2(
    password: bytes, salt: bytes, iterations: int, algorithm: str = "SHA1", length: int = 32
) -> bytes:
    """PBKDF2-HMAC with bounded iterations (a file cannot make us spin), through the KDF gate."""
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError("iteration count out of range")
    if iterations > PBKDF2_MAX_ITERATIONS:
        raise KdfCostRefused("iteration count too high")
    algo = {"SHA1": hashes.SHA1(), "SHA256": hashes.SHA256(), "SHA512": hashes.SHA512()}[algorithm]
    with gates.KDF_GATE.hold():
        return PBKDF2HMAC(algorithm=algo, length=length, salt=salt, iterations=iterations).derive(
            password
        )


def aes_gcm_decrypt(
    key: bytes, nonce: bytes, ciphertext_and_tag: bytes, aad: bytes | None = None
) -> bytes:
    """AES-GCM decryption; raises `InvalidTag` when the key (password) or data is wrong."""
    if len(ciphertext_and_tag) < 16 or not nonce:
        raise ValueError("ciphertext too short")
    return AESGCM(key).decrypt(nonce, ciphertext_and_tag, aad)


class BadPadding(ValueError):
    """CBC decryption gave invalid padding: the key (so the password) is most likely wrong."""


def aes_cbc_decrypt(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    """AES-CBC decryption with PKCS#7 padding; raises `BadPadding` on a wrong key."""
    if not ciphertext or len(ciphertext) % 16:
        raise ValueError("ciphertext is not whole blocks")
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = dec.update(ciphertext) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise BadPadding("bad padding") from exc


def sha256(data: bytes) -> bytes:
    """SHA-256 digest."""
    h = hashes.Hash(hashes.SHA256())
    h.update(data)
    return h.finalize()
