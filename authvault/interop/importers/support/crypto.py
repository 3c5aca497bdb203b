"""The ciphers and key derivations other apps' encrypted exports use, with bounds a file cannot lift.

Key derivation parameters read from a file are bounded before use, and every derivation goes
through the KDF gate (`authvault.gates`), so an upload cannot make the server spin.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from .... import gates
from ..base import KdfCostRefused

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


#: The IV of apps that use none of their own (Authy's tokens, TOTP Authenticator's backups).
ZERO_IV = bytes(16)


def open_aes_cbc(password: str, ciphertext: bytes, *, salt: bytes | None = None, iterations: int = 0,
                 iv: bytes = ZERO_IV) -> bytes:
    """What an app sealed with AES-256-CBC/PKCS#7 under a key made from `password`.

    The key is PBKDF2-HMAC-SHA1(password, salt, iterations) where the app salts it (Authy: its
    per-token salt, 1,000 iterations; Stratum's legacy backup: 64,000), else SHA-256 of the
    password (TOTP Authenticator). The IV is zero unless the file carries one (Stratum's legacy
    backup). CBC has no authentication: a wrong password shows as `BadPadding`, or as plaintext
    that does not parse. ValueError, before any key is derived, when the ciphertext is not whole
    blocks.
    """
    if not ciphertext or len(ciphertext) % 16:
        raise ValueError("ciphertext is not whole blocks")
    secret = password.encode("utf-8")
    key = pbkdf2(secret, salt, iterations, "SHA1") if salt is not None else sha256(secret)
    return aes_cbc_decrypt(key, iv, ciphertext)
