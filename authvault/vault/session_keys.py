"""Keeping an unlocked master key server-side, encrypted under a key only the cookie can rebuild.

The session cookie holds a random token. The database row is keyed by `session_id(token)` (its
SHA-256) and holds `wrap_for_session(master_key, token)`: AES-256-GCM under
HKDF-SHA256(token, info "authvault session key v1"), AAD = the session id. Neither the row nor the
cookie alone decrypts anything, and a blob moved to another session's row does not open.
Blob layout: version byte (1) || nonce (12) || ciphertext || tag (16).
"""
from __future__ import annotations

import base64
import hashlib
import secrets

from ..errors import N_
from . import crypto
from .errors import VaultError

TOKEN_BYTES = 32
BLOB_VERSION = 1
SESSION_KEY_INFO = b"authvault session key v1"


def _invalid() -> VaultError:
    return VaultError("session_invalid", N_("This session is locked or has expired. Unlock again."))


def new_session_token() -> str:
    """A fresh URL-safe session token (32 random bytes) for the session cookie."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def session_id(token: str) -> str:
    """The database key for a session: SHA-256 hex of the token (reveals nothing about it)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _session_key(token: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError) as exc:
        raise _invalid() from exc
    if len(raw) < TOKEN_BYTES:
        raise _invalid()
    return crypto.hkdf_sha256(raw, None, SESSION_KEY_INFO)


def wrap_for_session(master_key: bytes, token: str) -> bytes:
    """The master key encrypted for the session whose cookie holds `token`."""
    sealed = crypto.aes_gcm_encrypt(_session_key(token), master_key,
                                    session_id(token).encode("ascii"))
    return bytes([BLOB_VERSION]) + sealed.nonce + sealed.ciphertext + sealed.tag


def unwrap_for_session(blob: bytes, token: str) -> bytes:
    """The master key from a session blob; VaultError code `session_invalid` on any failure."""
    minimum = 1 + crypto.NONCE_SIZE + crypto.TAG_SIZE
    if not isinstance(blob, (bytes, bytearray, memoryview)) or len(blob) < minimum:
        raise _invalid()
    blob = bytes(blob)
    if blob[0] != BLOB_VERSION:
        raise _invalid()
    nonce = blob[1:1 + crypto.NONCE_SIZE]
    body, tag = blob[1 + crypto.NONCE_SIZE:-crypto.TAG_SIZE], blob[-crypto.TAG_SIZE:]
    try:
        return crypto.aes_gcm_decrypt(_session_key(token), nonce, body, tag,
                                      session_id(token).encode("ascii"))
    except crypto.DecryptionFailed as exc:
        raise _invalid() from exc
