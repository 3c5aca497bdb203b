"""Primitives the vault is built from, all from `cryptography`: AES-256-GCM, scrypt, HKDF, HMAC.

AES-GCM results are split into nonce, ciphertext and tag because that is how Aegis stores them.
"""
from __future__ import annotations

import hmac as _hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _chmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
SALT_SIZE = 32

# Refuse scrypt parameters beyond these when reading a vault: a tampered or hostile file must not
# be able to make the server allocate gigabytes (128 * n * r bytes) or spin for minutes.
MAX_SCRYPT_N = 2**20
MAX_SCRYPT_MEMORY = 256 * 1024 * 1024


class DecryptionFailed(Exception):
    """An AES-GCM tag did not verify: wrong key, or changed ciphertext, nonce, tag or AAD."""


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost parameters (the salt is per slot, not here)."""

    n: int
    r: int
    p: int

    def is_sane(self) -> bool:
        """True when the parameters are valid and within the limits this server will compute."""
        return (
            isinstance(self.n, int) and isinstance(self.r, int) and isinstance(self.p, int)
            and not isinstance(self.n, bool)
            and 2 <= self.n <= MAX_SCRYPT_N and self.n & (self.n - 1) == 0
            and 1 <= self.r <= 32 and 1 <= self.p <= 16
            and 128 * self.n * self.r <= MAX_SCRYPT_MEMORY
        )


DEFAULT_SCRYPT = ScryptParams(2**15, 8, 1)
TEST_SCRYPT = ScryptParams(2**4, 8, 1)


@dataclass(frozen=True)
class Sealed:
    """One AES-GCM result, split the way Aegis stores it."""

    nonce: bytes
    ciphertext: bytes
    tag: bytes


def random_bytes(size: int) -> bytes:
    """`size` bytes from the operating system's CSPRNG."""
    return os.urandom(size)


def new_master_key() -> bytes:
    """A fresh random 256-bit master key."""
    return os.urandom(KEY_SIZE)


def aes_gcm_encrypt(key: bytes, plaintext: bytes, aad: bytes | None = None,
                    nonce: bytes | None = None) -> Sealed:
    """AES-256-GCM encrypt under a random 96-bit nonce (pass `nonce` only for test vectors)."""
    nonce = os.urandom(NONCE_SIZE) if nonce is None else nonce
    out = AESGCM(key).encrypt(nonce, plaintext, aad)
    return Sealed(nonce=nonce, ciphertext=out[:-TAG_SIZE], tag=out[-TAG_SIZE:])


def aes_gcm_decrypt(key: bytes, nonce: bytes, ciphertext: bytes, tag: bytes,
                    aad: bytes | None = None) -> bytes:
    """AES-256-GCM decrypt and verify; DecryptionFailed if anything does not match."""
    if len(key) != KEY_SIZE or len(nonce) != NONCE_SIZE or len(tag) != TAG_SIZE:
        raise DecryptionFailed("bad key, nonce or tag length")
    try:
        return AESGCM(key).decrypt(nonce, ciphertext + tag, aad)
    except InvalidTag as exc:
        raise DecryptionFailed("authentication tag did not verify") from exc


def scrypt_kek(secret: bytes, salt: bytes, params: ScryptParams) -> bytes:
    """A 256-bit key-encryption key: scrypt(secret, salt, N, r, p)."""
    return Scrypt(salt=salt, length=KEY_SIZE, n=params.n, r=params.r, p=params.p).derive(secret)


def hkdf_sha256(ikm: bytes, salt: bytes | None, info: bytes, length: int = KEY_SIZE) -> bytes:
    """HKDF-SHA256 (RFC 5869) of `ikm`."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256 of `data`."""
    mac = _chmac.HMAC(key, hashes.SHA256())
    mac.update(data)
    return mac.finalize()


def constant_time_equal(a: bytes, b: bytes) -> bool:
    """Compare two byte strings without leaking where they differ."""
    return _hmac.compare_digest(a, b)
