"""2FAS Authenticator backups (.2fas), schema versions 1 to 4, plain or encrypted.

Encrypted backups hold `servicesEncrypted` = "base64(ciphertext+tag):base64(salt):base64(iv)",
key = PBKDF2-HMAC-SHA256(password, salt, 10000), AES-256-GCM, plaintext = the services array.
Since schema 2 a `reference` (a known text encrypted the same way) lets a wrong password be told
from damaged data. Each service's `otp` object may carry `tokenType` (TOTP, HOTP, STEAM) with
`digits`, `period`, `algorithm` and `counter` at any schema (2FAS wrote HOTP entries in schema 1
and 2 backups too); what is absent takes the TOTP defaults.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidTag

from ...errors import N_
from ...otp import decode_secret
from .base import (
    DamagedFile,
    EntryCollector,
    Importer,
    PasswordRequired,
    UnsupportedFormatVersion,
    WrongPassword,
    unsupported_type,
)
from .support.crypto import aes_gcm_decrypt, pbkdf2
from .support.decode import account, b64decode
from .support.text import load_json, peek_json

_MAX_SCHEMA = 4
#: 2FAS's tokenType values and ours.
_TOKEN_TYPES = {"TOTP": "totp", "HOTP": "hotp", "STEAM": "steam"}
_ITERATIONS = 10_000


def _is_twofas(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and "services" in doc
        and ("schemaVersion" in doc or "servicesEncrypted" in doc or "appOrigin" in doc)
    )


class TwoFasImporter(Importer):
    """2FAS Authenticator."""

    name = "twofas"
    label = "2FAS Authenticator"
    hints = ((b'"services"', b'"otp"'), (b'"services"', b'"servicesEncrypted"'))

    def detect(self, data: bytes, filename: str | None) -> bool:
        """A JSON object with 2FAS's services and schemaVersion."""
        return _is_twofas(peek_json(data))

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        doc = load_json(data)
        if not _is_twofas(doc):
            raise DamagedFile(self.label)
        schema = doc.get("schemaVersion", 1)
        if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
            raise DamagedFile(self.label)
        if schema > _MAX_SCHEMA:
            raise UnsupportedFormatVersion(self.label, N_("schema version %s") % schema)
        services = doc.get("services")
        encrypted = doc.get("servicesEncrypted")
        if encrypted:
            reference = doc.get("reference")
            if reference:
                # The reference is a known text under the same password: it tells a wrong
                # password (reference fails) from damaged services (reference opens).
                self._decrypt(reference, password, check_only=True)
            services = self._decrypt(encrypted, password, checked=bool(reference))
        if not isinstance(services, list):
            raise DamagedFile(self.label)
        # 2FAS keeps groups as {"id", "name", ...} and each service's "groupId".
        groups = {g["id"]: g["name"] for g in doc.get("groups") or []
                  if isinstance(g, dict) and isinstance(g.get("id"), str) and isinstance(g.get("name"), str)}
        for service in services:
            self._entry(service, groups, out)

    def _decrypt(
        self, blob: Any, password: str | None, *, check_only: bool = False, checked: bool = False
    ) -> Any:
        if not isinstance(blob, str) or blob.count(":") < 2:
            raise DamagedFile(self.label)
        parts = blob.split(":")
        try:
            body, salt, iv = (b64decode(p) for p in parts[:3])
        except ValueError as exc:
            raise DamagedFile(self.label) from exc
        if len(body) < 16 or len(iv) != 12 or not salt:
            raise DamagedFile(self.label)
        if not password:
            raise PasswordRequired(self.label)
        key = pbkdf2(password.encode("utf-8"), salt, _ITERATIONS, "SHA256")
        try:
            plain = aes_gcm_decrypt(key, iv, body)
        except InvalidTag as exc:
            if checked:
                raise DamagedFile(self.label) from exc
            raise WrongPassword(self.label, or_damaged=not check_only) from exc
        if check_only:
            return None
        try:
            return load_json(plain)
        except ValueError as exc:
            raise DamagedFile(self.label) from exc

    @staticmethod
    def _entry(service: Any, groups: dict[str, str], out: EntryCollector) -> None:
        if not isinstance(service, dict):
            out.skip("", "", N_("This entry is damaged."))
            return
        raw_otp = service.get("otp")
        otp: dict[str, Any] = raw_otp if isinstance(raw_otp, dict) else {}
        issuer = otp.get("issuer") or service.get("name") or ""
        name = otp.get("account") or ""

        group_id = service.get("groupId")

        def build() -> Any:
            secret = decode_secret(service.get("secret"))
            # tokenType is read at every schema: backups of schemas 1 and 2 carry it too ("HOTP"
            # with a counter); only its absence means TOTP. A type we do not know is skipped with
            # its name, never read as a TOTP.
            kind = otp.get("tokenType")
            if kind is None or kind == "":
                kind = "TOTP"
            if not isinstance(kind, str) or kind.upper() not in _TOKEN_TYPES:
                raise unsupported_type(str(kind)[:20])
            return account(
                secret=secret,
                type=_TOKEN_TYPES[kind.upper()],
                issuer=issuer,
                name=name,
                algorithm=otp.get("algorithm"),
                digits=otp.get("digits"),
                period=otp.get("period"),
                counter=otp.get("counter"),
                group=groups.get(group_id, "") if isinstance(group_id, str) else "",
            )

        out.add(issuer, name, build)
