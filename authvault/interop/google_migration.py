"""Google Authenticator's export format: otpauth-migration://offline?data=<base64 protobuf>.

Decodes and encodes the MigrationPayload message. There is no protoc here, so the message classes
are built at import time from a FileDescriptorProto written out below (field numbers as in the
export; enums are proto3-open, so an unknown value arrives as a number and is skipped, not fatal).
"""
from __future__ import annotations

import base64
import binascii
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message

from ..errors import N_
from ..model import Account, Skipped
from ..otp import OtpError, split_label, validate
from ..qr import MAX_QR_BYTES

log = logging.getLogger(__name__)

SCHEME = "otpauth-migration"
PREFIX = "otpauth-migration://offline?"
DEFAULT_BATCH_SIZE = 10
GOOGLE_PERIOD = 30  # the export has no period field: Google Authenticator only does 30 s
MAX_URI_CHARS = 64 * 1024  # a QR code holds under 3 KB; anything far larger is not an export

_FDP = descriptor_pb2.FieldDescriptorProto
_ALGORITHMS = {0: "SHA1", 1: "SHA1", 2: "SHA256", 3: "SHA512"}  # 0 = unspecified: Google means SHA1
_ALGORITHM_NUMBERS = {"SHA1": 1, "SHA256": 2, "SHA512": 3}
_ALGORITHM_MD5 = 4
_DIGITS = {0: 6, 1: 6, 2: 8}  # 0 = unspecified: six
_DIGIT_NUMBERS = {6: 1, 8: 2}
_TYPES = {1: "hotp", 2: "totp"}
_TYPE_NUMBERS = {"hotp": 1, "totp": 2}


def _build_messages() -> tuple[type[Message], type[Message]]:
    """The MigrationPayload and OtpParameters classes, from a hand-written descriptor."""
    file_proto = descriptor_pb2.FileDescriptorProto(
        name="authvault/transfer/google_migration.proto", package="authvault.googlemigration",
        syntax="proto3")
    payload = file_proto.message_type.add(name="MigrationPayload")
    for enum_name, values in (
        ("Algorithm", ["ALGORITHM_UNSPECIFIED", "ALGORITHM_SHA1", "ALGORITHM_SHA256", "ALGORITHM_SHA512",
                       "ALGORITHM_MD5"]),
        ("DigitCount", ["DIGIT_COUNT_UNSPECIFIED", "DIGIT_COUNT_SIX", "DIGIT_COUNT_EIGHT"]),
        ("OtpType", ["OTP_TYPE_UNSPECIFIED", "OTP_TYPE_HOTP", "OTP_TYPE_TOTP"]),
    ):
        enum = payload.enum_type.add(name=enum_name)
        for number, value_name in enumerate(values):
            enum.value.add(name=value_name, number=number)
    params = payload.nested_type.add(name="OtpParameters")
    prefix = ".authvault.googlemigration.MigrationPayload."
    for number, name, kind, type_name in (
        (1, "secret", _FDP.TYPE_BYTES, None),
        (2, "name", _FDP.TYPE_STRING, None),
        (3, "issuer", _FDP.TYPE_STRING, None),
        (4, "algorithm", _FDP.TYPE_ENUM, prefix + "Algorithm"),
        (5, "digits", _FDP.TYPE_ENUM, prefix + "DigitCount"),
        (6, "type", _FDP.TYPE_ENUM, prefix + "OtpType"),
        (7, "counter", _FDP.TYPE_INT64, None),
    ):
        added = params.field.add(name=name, number=number, type=kind, label=_FDP.LABEL_OPTIONAL)
        if type_name:
            added.type_name = type_name
    payload.field.add(name="otp_parameters", number=1, type=_FDP.TYPE_MESSAGE,
                      label=_FDP.LABEL_REPEATED, type_name=prefix + "OtpParameters")
    for number, name in ((2, "version"), (3, "batch_size"), (4, "batch_index"), (5, "batch_id")):
        payload.field.add(name=name, number=number, type=_FDP.TYPE_INT32, label=_FDP.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()  # our own pool: no clash with any other .proto
    pool.Add(file_proto)
    payload_class = message_factory.GetMessageClass(
        pool.FindMessageTypeByName("authvault.googlemigration.MigrationPayload"))
    params_class = message_factory.GetMessageClass(
        pool.FindMessageTypeByName("authvault.googlemigration.MigrationPayload.OtpParameters"))
    return payload_class, params_class


MigrationPayload, OtpParameters = _build_messages()


@dataclass
class MigrationBatch:
    """One decoded export QR code: its accounts, the entries skipped, and its place in the export."""

    accounts: list[Account]
    skipped: list[Skipped]
    batch_index: int
    batch_size: int
    batch_id: int


# --- decoding ------------------------------------------------------------------------------

def _data_param(uri: str) -> str:
    if not isinstance(uri, str):
        raise OtpError("not_migration_uri", N_("This is not a Google Authenticator export (otpauth-migration://)."))
    text = uri.strip()
    if len(text) > MAX_URI_CHARS:
        raise OtpError("migration_too_large", N_("This export address is too long to be a Google Authenticator export."))
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() != SCHEME:
        raise OtpError("not_migration_uri", N_("This is not a Google Authenticator export (otpauth-migration://)."))
    host, _, query = rest.partition("?")
    if host.lower() != "offline":
        raise OtpError("not_migration_uri", N_("This is not a Google Authenticator export (otpauth-migration://)."))
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == "data":
            return value
    raise OtpError("missing_migration_data", N_("The export address has no data."))


def _payload_bytes(value: str) -> bytes:
    # Percent-decode but keep "+" literal: exports are often pasted with raw standard base64.
    # A space can only be a "+" that something form-decoded on the way, so turn it back.
    text = unquote(value).strip().replace(" ", "+")
    text = text.replace("-", "+").replace("_", "/").rstrip("=")  # url-safe alphabet too
    if not text or len(text) % 4 == 1 or not re.fullmatch(r"[A-Za-z0-9+/]*", text):
        raise OtpError("invalid_migration_base64", N_("The export data is not valid base64."))
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise OtpError("invalid_migration_base64", N_("The export data is not valid base64.")) from exc


def _skip(name: str, issuer: str, code: str, reason: str, **params: Any) -> Skipped:
    log.info("skipping a Google Authenticator export entry: %s", code)
    return Skipped(name=name, issuer=issuer, reason=reason, code=code, params=params)


def _account(entry: Any) -> Account | Skipped:
    """The account of one OtpParameters entry, or why it cannot be used."""
    issuer = entry.issuer.strip()
    prefix, name = split_label(entry.name, issuer)
    issuer = issuer or prefix
    otp_type = _TYPES.get(entry.type)
    if otp_type is None:
        return _skip(name, issuer, "unsupported_type",
                     N_("This entry has a type AuthVault does not know (neither TOTP nor HOTP)."))
    if entry.algorithm == _ALGORITHM_MD5:
        return _skip(name, issuer, "unsupported_algorithm",
                     N_("This entry uses MD5, which AuthVault does not support."))
    algorithm = _ALGORITHMS.get(entry.algorithm)
    if algorithm is None:
        return _skip(name, issuer, "unsupported_algorithm",
                     N_("This entry uses an algorithm AuthVault does not know."))
    digits = _DIGITS.get(entry.digits)
    if digits is None:
        return _skip(name, issuer, "invalid_digits",
                     N_("This entry has a number of digits AuthVault does not know."))
    account = Account(secret=bytes(entry.secret), type=otp_type, issuer=issuer, name=name,  # type: ignore[arg-type]
                      algorithm=algorithm, digits=digits, period=GOOGLE_PERIOD,
                      counter=entry.counter if otp_type == "hotp" else 0)
    try:
        return validate(account)
    except OtpError as exc:
        return _skip(name, issuer, exc.code, exc.message, **exc.params)


def parse_migration_uri(uri: str) -> MigrationBatch:
    """The accounts of one otpauth-migration://offline?data=... URI (one export QR code)."""
    raw = _payload_bytes(_data_param(uri))
    payload = MigrationPayload()
    try:
        payload.ParseFromString(raw)
    except (DecodeError, ValueError) as exc:  # the protobuf error may quote the data: not logged
        raise OtpError("invalid_migration_data",
                       N_("The export data is damaged: it is not a Google Authenticator export.")) from exc
    if not payload.otp_parameters:
        raise OtpError("empty_migration", N_("This Google Authenticator export holds no accounts."))
    accounts: list[Account] = []
    skipped: list[Skipped] = []
    for entry in payload.otp_parameters:
        result = _account(entry)
        if isinstance(result, Account):
            accounts.append(result)
        else:
            skipped.append(result)
    # Exports of a single QR code may leave the batch fields out: that is batch 0 of 1.
    return MigrationBatch(accounts=accounts, skipped=skipped, batch_index=payload.batch_index,
                          batch_size=payload.batch_size or 1, batch_id=payload.batch_id)


def parse_migration_text(text: str) -> list[MigrationBatch]:
    """Every batch of a text file with one otpauth-migration URI a line (# starts a comment)."""
    if not text.strip():
        raise OtpError("empty_input", N_("The file is empty."))
    batches = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            batches.append(parse_migration_uri(line))
    return batches


# --- encoding ------------------------------------------------------------------------------

def unsupported_reason(account: Account) -> str | None:
    """Why Google Authenticator cannot hold an account (English msgid), or None if it can."""
    if account.action_required or not account.secret:
        return N_("This account needs a new QR code from its service first.")
    if account.type == "steam":
        return N_("Google Authenticator has no Steam Guard codes.")
    if account.type not in _TYPE_NUMBERS:
        return N_("Google Authenticator only holds TOTP and HOTP accounts.")
    if account.algorithm not in _ALGORITHM_NUMBERS:
        return N_("Google Authenticator does not support this algorithm.")
    if account.digits not in _DIGIT_NUMBERS:
        return N_("Google Authenticator only shows codes of 6 or 8 digits.")
    if account.type == "totp" and account.period != GOOGLE_PERIOD:
        return N_("Google Authenticator only uses codes that change every 30 seconds.")
    return None


def _entry(account: Account) -> Any:
    entry = OtpParameters()
    entry.secret = bytes(account.secret)
    entry.name = account.name
    entry.issuer = account.issuer
    entry.algorithm = _ALGORITHM_NUMBERS[account.algorithm]
    entry.digits = _DIGIT_NUMBERS[account.digits]
    entry.type = _TYPE_NUMBERS[account.type]
    if account.type == "hotp":
        entry.counter = account.counter
    return entry


def build_migration_uris(accounts: list[Account],
                         batch_size: int = DEFAULT_BATCH_SIZE) -> tuple[list[str], list[tuple[Account, str]]]:
    """Export URIs (one a QR code, `batch_size` accounts each) and the accounts left out, with why."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    exportable: list[Account] = []
    left_out: list[tuple[Account, str]] = []
    for account in accounts:
        reason = unsupported_reason(account)
        if reason is None:
            exportable.append(account)
        else:
            left_out.append((account, reason))
    # Up to `batch_size` accounts a code, fewer where long names would not fit in one QR code.
    chunks: list[list[Account]] = []
    for account in exportable:
        if not _fits([account]):
            left_out.append((account, N_("Its issuer or name is too long for a Google Authenticator transfer code.")))
        elif chunks and len(chunks[-1]) < batch_size and _fits(chunks[-1] + [account]):
            chunks[-1].append(account)
        else:
            chunks.append([account])
    batch_id = secrets.randbits(31)  # one id shared by every QR code of this export
    return [_uri(chunk, len(chunks), index, batch_id) for index, chunk in enumerate(chunks)], left_out


def _uri(chunk: list[Account], batch_size: int, batch_index: int, batch_id: int) -> str:
    payload = MigrationPayload(version=1, batch_size=batch_size, batch_index=batch_index, batch_id=batch_id)
    payload.otp_parameters.extend(_entry(account) for account in chunk)
    data = base64.b64encode(payload.SerializeToString()).decode("ascii")
    return PREFIX + "data=" + quote(data, safe="")


def _fits(chunk: list[Account]) -> bool:
    """Whether the URI of `chunk` fits in one QR code (measured with the largest batch fields)."""
    largest = 2**31 - 1
    return len(_uri(chunk, largest, largest, largest).encode("ascii")) <= MAX_QR_BYTES
