"""FreeOTP: the 1.x app-internal tokens.xml, and the 2.x encrypted backup (externalBackup.xml).

1.x: Android preferences mapping "issuer:label" to a token JSON (secret as a Java byte array),
plus "tokenOrder". FreeOTP stores an HOTP counter as it is; it is kept as written.

2.x: despite its .xml name, a Java-serialized HashMap<String, String>. "masterKey" holds a
PBKDF2 salt and iteration count and the AES-GCM-encrypted master key; each "<uuid>" holds the
token's key encrypted under the master key, "<uuid>-token" its plain metadata. GCM's associated
data is the key's `mToken` ("AES", "HmacSHA1"...). A wrong password fails on the master key.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidTag

from ...errors import N_
from .base import (
    DamagedFile,
    EntryCollector,
    EntryRejected,
    Importer,
    PasswordRequired,
    WrongPassword,
)
from .support.android_prefs import android_prefs, is_android_prefs
from .support.crypto import aes_gcm_decrypt, pbkdf2
from .support.decode import account, signed_bytes, split_label
from .support.javaser import is_java_serialized, read_string_hashmap
from .support.text import load_json

_KDFS = {
    "PBKDF2withHmacSHA1": "SHA1",
    "PBKDF2withHmacSHA256": "SHA256",
    "PBKDF2withHmacSHA512": "SHA512",
}


def token_account(obj: Any, secret: bytes | None = None) -> Any:
    """An account from a FreeOTP token JSON (1.x tokens.xml, FreeOTP+ and 2.x metadata)."""
    if not isinstance(obj, dict):
        raise EntryRejected(N_("This entry is damaged."))
    if secret is None:
        secret = signed_bytes(obj.get("secret"))
    issuer = obj.get("issuerExt") or obj.get("issuerInt") or ""
    return account(
        secret=secret,
        type=obj.get("type") or "TOTP",
        issuer=issuer,
        name=obj.get("label"),
        algorithm=obj.get("algo"),
        digits=obj.get("digits"),
        period=obj.get("period"),
        counter=obj.get("counter"),
    )


def read_tokens_xml(data: bytes, out: EntryCollector, label: str) -> None:
    """Add every token of a FreeOTP / FreeOTP+ tokens.xml to `out`."""
    prefs = android_prefs(data)
    if "tokenOrder" not in prefs and not prefs:
        raise DamagedFile(label)
    for key, value in prefs.items():
        if key == "tokenOrder":
            continue
        issuer, name = split_label(key)

        def build(value: str = value) -> Any:
            return token_account(load_json(value))

        out.add(issuer, name, build)


def _gcm_params(der: bytes) -> tuple[bytes, int]:
    """(nonce, tag length) from Java's DER GCMParameters, or a bare OCTET STRING (API 23)."""

    def read(pos: int) -> tuple[int, int, int]:
        tag, length = der[pos], der[pos + 1]
        if length & 0x80:
            raise ValueError("long DER lengths are not expected here")
        return tag, pos + 2, length

    tag, start, length = read(0)
    tag_len = 16
    if tag == 0x30:
        inner, istart, ilen = read(start)
        if inner != 0x04:
            raise ValueError("expected an OCTET STRING")
        nonce = der[istart : istart + ilen]
        rest = istart + ilen
        if rest < start + length:
            itag, vstart, vlen = read(rest)
            if itag != 0x02 or vlen < 1:
                raise ValueError("expected an INTEGER")
            tag_len = int.from_bytes(der[vstart : vstart + vlen], "big")
    elif tag == 0x04:
        nonce = der[start : start + length]
    else:
        raise ValueError("unknown GCM parameters")
    if len(nonce) != length and tag == 0x04 or not nonce or tag_len != 16:
        raise ValueError("bad GCM parameters")
    return nonce, tag_len


def _decrypt_key(encrypted: Any, key: bytes) -> bytes:
    """Decrypt one FreeOTP EncryptedKey JSON object with `key` (raises InvalidTag)."""
    if not isinstance(encrypted, dict) or encrypted.get("mCipher") != "AES/GCM/NoPadding":
        raise ValueError("unknown cipher")
    nonce, _tag_len = _gcm_params(signed_bytes(encrypted.get("mParameters")))
    token = encrypted.get("mToken")
    if not isinstance(token, str):
        raise ValueError("missing token")
    return aes_gcm_decrypt(
        key, nonce, signed_bytes(encrypted.get("mCipherText")), token.encode("utf-8")
    )


class FreeOtpImporter(Importer):
    """FreeOTP (1.x tokens.xml and 2.x encrypted backup)."""

    name = "freeotp"
    label = "FreeOTP"
    hints = ((b'name="tokenOrder"',), (b"<map", b"issuerExt&quot;"))

    def detect(self, data: bytes, filename: str | None) -> bool:
        """FreeOTP 2's Java-serialized backup, or a tokens.xml with a tokenOrder."""
        if is_java_serialized(data):
            return True  # the only Java-serialized export among the formats we know
        return is_android_prefs(data) and b'name="tokenOrder"' in data

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        if is_java_serialized(data):
            self._parse_backup(data, password, out)
        else:
            read_tokens_xml(data, out, self.label)

    def _parse_backup(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        entries = read_string_hashmap(data)
        if "masterKey" not in entries:
            raise DamagedFile(self.label)
        master = load_json(entries["masterKey"])
        if not isinstance(master, dict):
            raise DamagedFile(self.label)
        if not password:
            raise PasswordRequired(self.label)
        kdf = _KDFS.get(master.get("mAlgorithm"))  # type: ignore[arg-type]
        iterations = master.get("mIterations")
        if kdf is None or not isinstance(iterations, int):
            raise DamagedFile(self.label)
        pass_key = pbkdf2(
            password.encode("utf-8"), signed_bytes(master.get("mSalt")), iterations, kdf
        )
        try:
            master_key = _decrypt_key(master.get("mEncryptedKey"), pass_key)
        except InvalidTag as exc:
            raise WrongPassword(self.label) from exc
        for uuid, value in entries.items():
            if uuid == "masterKey" or uuid.endswith("-token"):
                continue
            meta_text = entries.get(uuid + "-token")
            try:
                meta = load_json(meta_text) if meta_text else None
            except ValueError:
                meta = None
            issuer = meta.get("issuerExt", "") if isinstance(meta, dict) else ""
            name = meta.get("label", "") if isinstance(meta, dict) else ""

            def build(value: str = value, meta: Any = meta) -> Any:
                if meta is None:
                    raise EntryRejected(N_("The token's details are missing."))
                wrapper = load_json(value)
                encrypted = load_json(wrapper["key"]) if isinstance(wrapper, dict) else None
                try:
                    secret = _decrypt_key(encrypted, master_key)
                except InvalidTag as exc:
                    raise EntryRejected(N_("This secret could not be decrypted.")) from exc
                return token_account(meta, secret)

            out.add(issuer, name, build)
