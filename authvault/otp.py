"""One-time codes (RFC 4226 HOTP, RFC 6238 TOTP, Steam) and the otpauth Key URI format.

No Flask here: functions take accounts and times and return codes, URIs and errors.
The rules for what a usable account is live in `validate`; the choices made where other
projects disagree about otpauth URIs are written down in the README ("otpauth URI policy").
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote, unquote, unquote_plus

import pyotp
from pyotp.contrib.steam import Steam

from .errors import N_, AuthVaultError
from .model import Account, OtpType

log = logging.getLogger(__name__)

ALGORITHMS = ("SHA1", "SHA256", "SHA512")
OTP_TYPES = ("totp", "hotp", "steam")

# Shortest key accepted: 5 bytes (8 base32 characters). RFC 4226 asks services for 16 bytes and
# Google's own keys are 10, but pyotp's suite and other apps use 5-byte keys; anything shorter is
# almost surely a truncated or mistyped key. The service chose the key; refusing it locks the
# person out, so the bar is "plausible", not "strong".
MIN_SECRET_BYTES = 5
MIN_DIGITS, MAX_DIGITS = 6, 10  # RFC 4226 minimum; 10 fills the 31-bit truncated value
STEAM_DIGITS, STEAM_PERIOD, STEAM_ALGORITHM = 5, 30, "SHA1"
MIN_PERIOD, MAX_PERIOD = 1, 3600
MAX_COUNTER = 2**63 - 1  # a signed 64-bit counter (Google's export stores int64)

_DIGESTS: dict[str, Callable[..., Any]] = {
    "SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512,
}
_BASE32_RE = re.compile(r"[A-Z2-7]*")
_CANONICAL_BASE32 = re.compile(r"[A-Z2-7]+\Z")
_IGNORED_IN_SECRET = re.compile(r"[\s\-]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Parameters whose value matters: given twice with different values, the URI is ambiguous.
_KNOWN_PARAMS = ("secret", "issuer", "algorithm", "digits", "period", "counter", "encoder")


class OtpError(AuthVaultError):
    """An account, URI or secret that cannot be used; `code` says which rule it broke."""


@dataclass(frozen=True)
class CodeWindow:
    """The code to show now, the one after it, and the whole seconds until it changes."""

    code: str
    next_code: str
    remaining: int | None  # None for HOTP: its code changes when used, not with time


# --- secrets -------------------------------------------------------------------------------

def decode_base32(text: Any) -> bytes:
    """Bytes of base32 text: any case, white space and hyphens ignored, padding optional.

    Characters outside A-Z and 2-7 and lengths base32 never has are refused (`invalid_secret`),
    as is nothing at all (`missing_secret`, `empty_secret`). The vault reads its stored secrets
    with this; everything a person or a file brings goes through `decode_secret`.
    """
    if text is None:
        raise OtpError("missing_secret", N_("The secret is missing."))
    if not isinstance(text, str):
        raise OtpError("invalid_secret", N_("The secret is not valid base32."))
    # What encode_secret writes needs no clean-up (the vault decodes every secret per request).
    cleaned = text if _CANONICAL_BASE32.match(text) else \
        _IGNORED_IN_SECRET.sub("", text).upper().rstrip("=")
    if not cleaned:
        raise OtpError("empty_secret", N_("The secret is empty."))
    # Lengths 1, 3 and 6 (mod 8) leave a whole character unused: RFC 4648 never produces them.
    if len(cleaned) % 8 in (1, 3, 6) or not _BASE32_RE.fullmatch(cleaned):
        raise OtpError("invalid_secret", N_("The secret is not valid base32."))
    try:
        return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError) as exc:
        raise OtpError("invalid_secret", N_("The secret is not valid base32.")) from exc


def decode_secret(text: Any) -> bytes:
    """Raw key bytes from base32 text: the one acceptance rule for every secret AuthVault takes.

    The account form, otpauth URIs and every importer decode through here (README, "otpauth URI
    policy"): `decode_base32`, then keys under MIN_SECRET_BYTES are refused.
    """
    raw = decode_base32(text)
    _check_secret(raw)
    return raw


def encode_secret(raw: bytes) -> str:
    """Unpadded upper-case base32 text of raw key bytes."""
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def _check_secret(raw: bytes) -> None:
    if not raw:
        raise OtpError("empty_secret", N_("The secret is empty."))
    if len(raw) < MIN_SECRET_BYTES:
        # Constant ranges are spelt out in the messages (no placeholders), so that a message
        # passed on without its params still reads right; tests keep them equal to the constants.
        raise OtpError("secret_too_short", N_("The secret is too short: at least 8 base32 characters are needed."))


# --- the rules for a usable account --------------------------------------------------------

def _check_algorithm(algorithm: str) -> None:
    if algorithm not in ALGORITHMS:
        raise OtpError("unsupported_algorithm",
                       N_("The algorithm %(algorithm)s is not supported: use SHA1, SHA256 or SHA512."),
                       algorithm=str(algorithm)[:20])


def _check_digits(digits: Any) -> None:
    if not _is_int(digits) or not MIN_DIGITS <= digits <= MAX_DIGITS:
        raise OtpError("invalid_digits", N_("Digits must be 6 to 10 (Steam codes have 5 characters)."))


def _check_period(period: Any) -> None:
    if not _is_int(period) or not MIN_PERIOD <= period <= MAX_PERIOD:
        raise OtpError("invalid_period", N_("The period must be 1 to 3600 seconds."))


def _check_counter(counter: Any) -> None:
    if not _is_int(counter) or not 0 <= counter <= MAX_COUNTER:
        raise OtpError("invalid_counter", N_("The counter must be a whole number from 0 up."))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def catch_up_counters(accounts: list[Account], used: Mapping[str, int]) -> tuple[dict[str, int], list[str]]:
    """HOTP counters used elsewhere (offline), by account id: each HOTP account's counter becomes
    the larger of the two (never backwards, no code shown twice), in place. Returns the new
    counters and the ids ignored (no such account, or not HOTP)."""
    by_id = {a.id: a for a in accounts}
    counters: dict[str, int] = {}
    ignored: list[str] = []
    for account_id, counter in used.items():
        acc = by_id.get(account_id)
        if acc is None or acc.type != "hotp":
            ignored.append(account_id)
            continue
        acc.counter = max(acc.counter, counter)
        counters[account_id] = acc.counter
    return counters, ignored


def otp_type(value: object) -> OtpType:
    """`value` as an account type: totp, hotp or steam (OtpError unsupported_type otherwise)."""
    if value == "totp":
        return "totp"
    if value == "hotp":
        return "hotp"
    if value == "steam":
        return "steam"
    raise OtpError("unsupported_type", N_("The type %(type)s is not supported: use totp, hotp or steam."),
                   type=str(value)[:20])


def validate(account: Account) -> Account:
    """Check that an account can give codes; normalize it in place (Steam, algorithm case) and return it."""
    otp_type(account.type)
    if isinstance(account.algorithm, str):
        account.algorithm = account.algorithm.upper()
    if account.type == "steam":
        # Steam Guard has one fixed setting; other values are what apps write, not what Steam does.
        account.algorithm, account.digits, account.period = STEAM_ALGORITHM, STEAM_DIGITS, STEAM_PERIOD
    else:
        _check_algorithm(account.algorithm)
        _check_digits(account.digits)
        if account.type == "totp":
            _check_period(account.period)
        else:
            _check_counter(account.counter)
            _check_counter(account.counter + 1)  # its next code is shown too: it must exist
    if not isinstance(account.secret, (bytes, bytearray)):
        raise OtpError("invalid_secret", N_("The secret is not valid base32."))
    _check_secret(bytes(account.secret))
    if not isinstance(account.issuer, str) or not isinstance(account.name, str):
        raise OtpError("invalid_label", N_("The issuer and account name must be text."))
    for value in (account.issuer, account.name, account.note, account.group):
        # A lone surrogate (JSON "\ud800") is no character: the vault could not store it.
        if isinstance(value, str) and _SURROGATE.search(value):
            raise OtpError("invalid_text", N_("The issuer, name, note or group holds characters that are not text."))
    return account


# --- codes ---------------------------------------------------------------------------------
# pyotp does the HMAC, dynamic truncation and Steam alphabet. It is given the raw key through
# `byte_secret`, because pyotp's own base32 path refuses keys under 112 bits, and Google's own
# 80-bit keys are among the most common real ones; the time step is ours too (pyotp caps periods
# at 120 s). The RFC vectors in the tests pin this down if pyotp changes.

class _RawKeyHotp(pyotp.HOTP):
    def __init__(self, key: bytes, digits: int, algorithm: str) -> None:
        self._key = key
        super().__init__("", digits=digits, digest=_DIGESTS[algorithm])

    def byte_secret(self) -> bytes:
        return self._key


class _RawKeySteam(Steam):
    def __init__(self, key: bytes) -> None:
        self._key = key
        super().__init__("", interval=STEAM_PERIOD)

    def byte_secret(self) -> bytes:
        return self._key


def _generate(account: Account, counter: int) -> str:
    validate(account)
    _check_counter(counter)
    key = bytes(account.secret)
    if account.type == "steam":
        return _RawKeySteam(key).generate_otp(counter)
    return _RawKeyHotp(key, account.digits, account.algorithm).generate_otp(counter)


def _time_step(account: Account, for_time: float) -> int:
    if account.type == "hotp":
        raise OtpError("not_time_based", N_("This account is counter-based (HOTP): it has no time-based code."))
    if not isinstance(for_time, (int, float)) or not math.isfinite(for_time) or for_time < 0:
        raise OtpError("invalid_time", N_("The time must be at or after 1970-01-01 UTC."))
    validate(account)  # also fixes a Steam account's period before it is used below
    return int(for_time // account.period)


def code_at(account: Account, for_time: float) -> str:
    """The TOTP or Steam code of an account at a Unix time (seconds)."""
    return _generate(account, _time_step(account, for_time))


def hotp_code(account: Account, counter: int) -> str:
    """The HOTP code of an account for one counter value."""
    if account.type != "hotp":
        raise OtpError("not_counter_based", N_("This account is time-based: it has no counter code."))
    return _generate(account, counter)


def code_window(account: Account, now: float) -> CodeWindow:
    """Current and next code, and the seconds (at least 1) before the current one expires."""
    # One check and one generator for both codes: the list shows hundreds of these per request.
    if account.type == "hotp":
        validate(account)
        _check_counter(account.counter + 1)
        gen = _RawKeyHotp(bytes(account.secret), account.digits, account.algorithm)
        return CodeWindow(gen.generate_otp(account.counter), gen.generate_otp(account.counter + 1), None)
    step = _time_step(account, now)  # validates the account
    period = account.period
    remaining = max(1, math.ceil(period - (now - step * period)))
    key = bytes(account.secret)
    window_gen: _RawKeyHotp | _RawKeySteam = _RawKeySteam(key) if account.type == "steam" else \
        _RawKeyHotp(key, account.digits, account.algorithm)
    return CodeWindow(window_gen.generate_otp(step), window_gen.generate_otp(step + 1), remaining)


# --- otpauth URIs --------------------------------------------------------------------------

def _query(text: str) -> dict[str, str]:
    """Query parameters (names lower-cased, "+" as space); conflicting repeats are refused."""
    values: dict[str, str] = {}
    for part in text.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        key = unquote_plus(key).strip().lower()
        value = unquote_plus(value)
        if key in values and values[key] != value and key in _KNOWN_PARAMS:
            raise OtpError("duplicate_parameter",
                           N_("The address gives %(parameter)s twice with different values."), parameter=key)
        values.setdefault(key, value)
    return values


def _int_param(params: dict[str, str], key: str, default: int, error: Callable[[Any], None]) -> int:
    text = params.get(key, "").strip()
    if not text:
        return default
    value = int(text) if re.fullmatch(r"[+-]?[0-9]{1,20}", text) else None
    error(value)  # raises the parameter's own error unless the value is in range
    assert value is not None
    return value


def split_label(label: str, issuer: str, *, literal_colon: bool = False) -> tuple[str, str]:
    """(issuer prefix, account name) of a Google export's name field (README, "Google
    Authenticator exports"): its colon separates an issuer only when what precedes it is empty or
    is the issuer given separately; otherwise the colon belongs to the name ("encoding: x").
    """
    prefix, sep, rest = label.partition(":")
    if not sep:
        return "", label.strip()
    if literal_colon or not prefix.strip() or prefix.strip().casefold() == issuer.strip().casefold():
        return prefix.strip(), rest.strip()
    return "", label.strip()


@dataclass(frozen=True)
class Note:
    """Something AuthVault decided while reading an account that the person should see before
    importing it ("Recognised as Steam Guard"); `message` is a msgid filled from `params`."""

    kind: str  # what was decided: "steam", "issuer_from_label", ... (not an error code)
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """The English note with its parameters filled in."""
        return self.message % self.params if self.params else self.message


def _uri_label(raw_label: str, issuer_param: str) -> tuple[str, str, str]:
    """(issuer prefix, account name, how it was split) of a URI label; README "Label".

    A literal colon always separates. An encoded one (%3A, Google's Key URI format allows both)
    separates too, except where the prefix would swallow a name that plainly is one: when an
    issuer parameter is given and the prefix is something else (the prefix would be dropped, so
    it stays in the name), or when the prefix holds an "@" (an e-mail address is an account
    name, never an issuer).
    """
    if ":" in raw_label:
        prefix_raw, _, name_raw = raw_label.partition(":")
        return unquote(prefix_raw).strip(), unquote(name_raw).strip(), "literal"
    label = unquote(raw_label)
    prefix, sep, rest = label.partition(":")
    if not sep:
        return "", label.strip(), "none"
    prefix = prefix.strip()
    if prefix and issuer_param and prefix.casefold() != issuer_param.casefold():
        return "", label.strip(), "kept"
    if "@" in prefix:
        return "", label.strip(), "kept"
    return prefix, rest.strip(), "encoded"


def _steam_uri_account(body: str) -> Account:
    secret = body.split("?", 1)[0].strip("/")
    if not secret:
        raise OtpError("missing_secret", N_("The address has no secret."))
    return validate(Account(secret=decode_secret(unquote(secret)), type="steam"))


def parse_uri(uri: str) -> Account:
    """An account from an otpauth:// Key URI (or Bitwarden's steam://SECRET)."""
    return read_uri(uri)[0]


def read_uri(uri: str) -> tuple[Account, list[Note]]:
    """`parse_uri`, with the notes of what was recognised or guessed on the way."""
    if not isinstance(uri, str):
        raise OtpError("not_otpauth_uri", N_("This is not an otpauth:// address."))
    text = uri.strip()
    scheme, sep, body = text.partition("://")
    scheme = scheme.lower()
    if sep and scheme == "steam":
        return _steam_uri_account(body), [
            Note(kind="steam", message=N_("Recognised as Steam Guard from its steam:// key."))]
    if not sep or scheme != "otpauth":
        raise OtpError("not_otpauth_uri", N_("This is not an otpauth:// address."))
    # Split by hand: "#" is literal here (Azure AD guest labels hold "#EXT#"), never a fragment.
    path, _, query = body.partition("?")
    kind, _, raw_label = path.partition("/")
    kind = unquote(kind).strip().lower()
    if kind not in OTP_TYPES:
        raise OtpError("unsupported_type", N_("The type %(type)s is not supported: use totp, hotp or steam."),
                       type=kind[:20])
    params = _query(query)
    notes: list[Note] = []

    issuer_param = params.get("issuer", "").strip()
    label_issuer, name, how = _uri_label(raw_label, issuer_param)
    issuer = issuer_param or label_issuer
    if label_issuer and issuer_param and label_issuer.casefold() != issuer_param.casefold():
        notes.append(Note(kind="issuer_parameter", message=N_(
            "The label names “%(prefix)s”, the issuer parameter “%(issuer)s”: the issuer parameter "
            "was used."), params={"prefix": label_issuer[:100], "issuer": issuer_param[:100]}))
    elif how == "encoded" and label_issuer and not issuer_param:
        notes.append(Note(kind="issuer_from_label", message=N_("The issuer “%(issuer)s” was taken from the label."),
                          params={"issuer": label_issuer[:100]}))

    digits_text = params.get("digits", "").strip()
    if kind != "steam":
        if params.get("encoder", "").strip().lower() == "steam":
            kind = "steam"
            notes.append(Note(kind="steam", message=N_("Recognised as Steam Guard from encoder=steam.")))
        elif kind == "totp" and issuer.casefold() == "steam" and digits_text in ("", "5"):
            # Steam's own QR code (what Steam Guard tools print and keep in maFiles) is a totp URI
            # with issuer Steam and no digits: Steam Guard tools, totp-rs and Stratum read it as Steam.
            kind = "steam"
            notes.append(Note(kind="steam", message=N_("Recognised as Steam Guard from its issuer “Steam”.")))

    account = Account(secret=b"", type=kind, issuer=issuer, name=name)  # type: ignore[arg-type]
    if kind != "steam":
        algorithm = params.get("algorithm", "").strip().upper() or "SHA1"
        algorithm = {"SHA-1": "SHA1", "SHA-256": "SHA256", "SHA-512": "SHA512"}.get(algorithm, algorithm)
        _check_algorithm(algorithm)
        account.algorithm = algorithm
        account.digits = _int_param(params, "digits", 6, _check_digits)
        if kind == "totp":
            account.period = _int_param(params, "period", 30, _check_period)
        else:
            account.counter = _int_param(params, "counter", 0, _check_counter)
    if "secret" not in params:
        raise OtpError("missing_secret", N_("The address has no secret."))
    account.secret = decode_secret(params["secret"])
    # The image parameter is never fetched: a QR code's author would choose where the server connects.
    return validate(account), notes


def _quote(text: str) -> str:
    return quote(text, safe="@")


def to_uri(account: Account) -> str:
    """A standard otpauth:// URI of an account; Steam as KeePassXC writes it (totp + encoder=steam)."""
    validate(account)
    issuer, name = account.issuer.strip(), account.name.strip()
    kind = account.type
    if kind == "steam":
        # Read as Steam by KeePassXC, pyotp, 2FAuth and steamguard-cli exports; apps that know no
        # Steam still get a well-formed TOTP URI instead of an unknown type.
        kind, issuer = "totp", issuer or "Steam"
    if issuer:
        label = f"{_quote(issuer)}:{_quote(name)}"
    else:
        # A colon in a name without issuer would read back as a separator: an empty prefix first.
        label = f"%3A{_quote(name)}" if ":" in name else _quote(name)
    query = [("secret", encode_secret(bytes(account.secret)))]
    if issuer:
        query.append(("issuer", issuer))
    query += [("algorithm", account.algorithm), ("digits", str(account.digits))]
    if kind == "hotp":
        query.append(("counter", str(account.counter)))
    else:
        query.append(("period", str(account.period)))
    if account.type == "steam":
        query.append(("encoder", "steam"))
    return f"otpauth://{kind}/{label}?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query)
