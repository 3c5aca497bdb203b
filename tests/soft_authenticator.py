"""A software WebAuthn authenticator for HTTP tests: answers the server's JSON options as a browser would.

It builds real `none`-attestation registrations and ES256-signed assertions (the formats
PublicKeyCredential.toJSON() writes), with a deterministic PRF (HMAC-SHA256 of a per-credential
seed), and lets a test break one thing at a time: origin, RP ID, user verification, sign count.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
AAGUID = bytes.fromhex("01020304050607080102030405060708")


def b64u(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64u(text: str) -> bytes:
    """Bytes from base64url with or without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftAuthenticator:
    """One authenticator holding one credential (made by `create`)."""

    rp_id: str = "localhost"
    origin: str = "http://localhost"
    prf: bool = True
    user_verified: bool = True
    synced: bool = False
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: os.urandom(16))
    prf_seed: bytes = field(default_factory=lambda: os.urandom(32))
    sign_count: int = 0

    @property
    def id(self) -> str:
        """The credential id, base64url."""
        return b64u(self.credential_id)

    def prf_value(self, salt_b64u: str) -> str:
        """The PRF output for a salt, base64url (what the browser puts in prf.results.first)."""
        return b64u(hmac.new(self.prf_seed, unb64u(salt_b64u), hashlib.sha256).digest())

    def _flags(self, uv: bool | None) -> int:
        flags = UP | (UV if (self.user_verified if uv is None else uv) else 0)
        if self.synced:
            flags |= BE | BS
        return flags

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    def create(self, options: dict[str, Any], *, prf_salt: str | None = None, origin: str | None = None,
               rp_id: str | None = None, uv: bool | None = None, prf_results_at_create: bool = True
               ) -> dict[str, Any]:
        """Answer registration options with a credential JSON (as toJSON writes it)."""
        rp = rp_id or options["rp"]["id"]
        self.sign_count = 0
        attested = AAGUID + struct.pack(">H", len(self.credential_id)) + self.credential_id + self._cose_key()
        auth_data = hashlib.sha256(rp.encode()).digest() + bytes([self._flags(uv) | AT]) + \
            struct.pack(">I", self.sign_count) + attested
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        att = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        ext: dict[str, Any] = {}
        if prf_salt is not None:
            ext["prf"] = {"enabled": self.prf}
            if self.prf and prf_results_at_create:
                ext["prf"]["results"] = {"first": self.prf_value(prf_salt)}
        return {"id": self.id, "rawId": self.id, "type": "public-key", "authenticatorAttachment": "platform",
                "response": {"clientDataJSON": b64u(client_data), "attestationObject": b64u(att),
                             "transports": ["internal", "hybrid"]},
                "clientExtensionResults": ext}

    def get(self, options: dict[str, Any], *, prf_salt: str | None = None, origin: str | None = None,
            rp_id: str | None = None, uv: bool | None = None, sign_count: int | None = None) -> dict[str, Any]:
        """Answer authentication options with an assertion JSON (as toJSON writes it)."""
        rp = rp_id or options["rpId"]
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        auth_data = hashlib.sha256(rp.encode()).digest() + bytes([self._flags(uv)]) + \
            struct.pack(">I", self.sign_count)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        ext: dict[str, Any] = {}
        if prf_salt is not None:
            ext["prf"] = {"results": {"first": self.prf_value(prf_salt)}} if self.prf else {}
        return {"id": self.id, "rawId": self.id, "type": "public-key", "authenticatorAttachment": "platform",
                "response": {"clientDataJSON": b64u(client_data), "authenticatorData": b64u(auth_data),
                             "signature": b64u(signature), "userHandle": None},
                "clientExtensionResults": ext}
