"""HTTPS for the home network: a small local CA and a server certificate for the host name.

On first start with a host name configured, AuthVault makes a local certificate authority
(EC P-256, about ten years) and a server certificate for that name and `localhost`, signed by it
(a name, because browsers refuse WebAuthn on an IP address whatever certificate they trust:
"This is an invalid domain"). Phones trust the CA once (the /connect page serves it); the server
certificate is renewed by `ensure_server_certificate` whenever it is close to expiring, its names
no longer match the configuration, or it no longer chains to the CA. The CA is kept: renewing never
makes phones trust anything again.

Files, all in `<data_dir>/tls/` and written atomically (temp file, fsync, rename, fsync folder):
`ca.pem` (the CA certificate, public), `ca-key.pem` (its private key, 0600), `server.pem` (the
server certificate followed by the CA certificate), `server-key.pem` (its private key, 0600).
The server key is kept across renewals, so a renewal replaces one file in one rename and a TLS
handshake never sees a certificate that does not match its key.

No Flask here: the gunicorn configuration and the web layer both call in.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
import os
import plistlib
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from authvault.config import is_ip_address
from authvault.errors import N_, AuthVaultError
from authvault.files import atomic_write, file_lock

log = logging.getLogger(__name__)

CA_DAYS = 3650
# Apple refuses TLS server certificates valid for more than 398 days (and Chrome follows);
# 397 leaves a day of margin for clock skew.
LEAF_DAYS = 397
RENEW_BEFORE = dt.timedelta(days=30)
# A new CA is made only when the old one could not sign a certificate worth having.
CA_RENEW_BEFORE = dt.timedelta(days=60)
BACKDATE = dt.timedelta(minutes=5)  # phones whose clocks run a little slow still accept it
CA_COMMON_NAME = "AuthVault Local CA"
PROFILE_IDENTIFIER = "org.authvault.local-ca"


class TlsError(AuthVaultError):
    """Certificates could not be made, read or used."""


@dataclass(frozen=True)
class TlsFiles:
    """Where the local CA and the server certificate live inside the data folder."""

    folder: Path

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> "TlsFiles":
        """The files for one AuthVault data folder."""
        return cls(Path(data_dir) / "tls")

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca-key.pem"

    @property
    def cert(self) -> Path:
        """The server certificate followed by the CA certificate (gunicorn's certfile)."""
        return self.folder / "server.pem"

    @property
    def key(self) -> Path:
        return self.folder / "server-key.pem"

    @property
    def lock(self) -> Path:
        return self.folder / ".lock"


@dataclass(frozen=True)
class CertificateStatus:
    """What `ensure_server_certificate` found and did."""

    files: TlsFiles
    ca_created: bool
    renewed: bool
    reason: str  # why it was (re)issued, or "valid"
    not_after: dt.datetime
    ca_fingerprint: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def server_names(host_name: str) -> list[str]:
    """The DNS names the server certificate is for: the host name, then localhost."""
    names = [host_name.lower().rstrip(".")]
    if "localhost" not in names:
        names.append("localhost")
    return names


# --- files ---------------------------------------------------------------------------------

@contextmanager
def _locked(files: TlsFiles) -> Iterator[None]:
    """Hold an exclusive lock on the TLS folder (several workers may check at once)."""
    files.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with file_lock(files.lock):
        yield


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey | None:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as exc:
        log.warning("Ignoring unreadable private key %s (%s); making a new one", path, type(exc).__name__)
        return None
    return key if isinstance(key, ec.EllipticCurvePrivateKey) else None


def _load_cert(path: Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        return None
    except ValueError:
        log.warning("Ignoring unreadable certificate %s", path)
        return None


# --- certificates --------------------------------------------------------------------------

def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, key_cert_sign=ca, crl_sign=ca, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         encipher_only=False, decipher_only=False)


def make_ca(now: dt.datetime | None = None, *, days: int = CA_DAYS) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A new self-signed CA that may sign server certificates only (path length 0)."""
    now = now or _now()
    key = ec.generate_private_key(ec.SECP256R1())
    # A short random suffix tells two AuthVault CAs apart in a phone's certificate list.
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, f"{CA_COMMON_NAME} {os.urandom(3).hex()}"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "AuthVault"),
    ])
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def make_server_certificate(ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey,
                            key: ec.EllipticCurvePrivateKey, names: Sequence[str],
                            now: dt.datetime | None = None, *, days: int = LEAF_DAYS) -> x509.Certificate:
    """A server certificate for `names` (DNS names) signed by the CA, valid at most `days` days."""
    now = now or _now()
    not_after = min(now + dt.timedelta(days=days), ca_cert.not_valid_after_utc)
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    # Loopback addresses too, so `curl --cacert ca.pem https://127.0.0.1:8443/` works on the server itself.
    sans += [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1"))]
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))


def dns_names(cert: x509.Certificate) -> list[str]:
    """The DNS names in a certificate's subject alternative names."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return san.get_values_for_type(x509.DNSName)


def _signed_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _same_key(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> bool:
    return cert.public_key() == key.public_key()


def _reissue_reason(cert: x509.Certificate | None, key: ec.EllipticCurvePrivateKey | None,
                    ca_cert: x509.Certificate, names: Sequence[str], now: dt.datetime,
                    renew_before: dt.timedelta) -> str | None:
    """Why the server certificate must be made again, or None when it is fine."""
    if cert is None or key is None:
        return "missing"
    if not _same_key(cert, key):
        return "key mismatch"
    if not _signed_by(cert, ca_cert):
        return "not signed by the CA"
    if sorted(dns_names(cert)) != sorted(names):
        return "host name changed"
    if cert.not_valid_after_utc - now < renew_before:
        return "expires soon"
    if cert.not_valid_before_utc > now + BACKDATE:
        return "not yet valid"
    return None


def common_name(cert: x509.Certificate) -> str:
    """The subject's common name ("AuthVault Local CA 3fa9c1")."""
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else cert.subject.rfc4514_string()


def fingerprint(cert: x509.Certificate) -> str:
    """The SHA-256 fingerprint as phones and browsers show it: AB:CD:..."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def ensure_server_certificate(data_dir: Path, host_name: str, *, now: dt.datetime | None = None,
                              renew_before: dt.timedelta = RENEW_BEFORE) -> CertificateStatus:
    """Make the local CA and the server certificate for `host_name` if needed; renew when due.

    Safe to call at every start and from several processes at once. The CA is created once and
    kept; a new one is made only when it is missing, unreadable or about to expire.
    """
    if is_ip_address(host_name):
        raise TlsError("host_name_is_ip", N_("The host name must be a name, not an IP address: %(host)s."),
                       host=host_name)
    now = now or _now()
    files = TlsFiles.in_data_dir(data_dir)
    names = server_names(host_name)
    try:
        with _locked(files):
            ca_cert, ca_key = _load_cert(files.ca_cert), _load_key(files.ca_key)
            ca_created = False
            if (ca_cert is None or ca_key is None or not _same_key(ca_cert, ca_key)
                    or ca_cert.not_valid_after_utc - now < CA_RENEW_BEFORE):
                if ca_cert is not None:
                    log.warning("Making a new local CA: the old one is unusable or about to expire. "
                                "Every phone must trust the new one (open /connect).")
                ca_cert, ca_key = make_ca(now)
                atomic_write(files.ca_key, _pem_key(ca_key), mode=0o600)
                atomic_write(files.ca_cert, ca_cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
                ca_created = True

            cert, key = _load_cert(files.cert), _load_key(files.key)
            reason = _reissue_reason(cert, key, ca_cert, names, now, renew_before)
            if reason is None and cert is not None:
                return CertificateStatus(files, ca_created, False, "valid", cert.not_valid_after_utc,
                                         fingerprint(ca_cert))
            if key is None:
                key = ec.generate_private_key(ec.SECP256R1())
                atomic_write(files.key, _pem_key(key), mode=0o600)
            cert = make_server_certificate(ca_cert, ca_key, key, names, now)
            pem = serialization.Encoding.PEM
            # Same key as before, so replacing this one file is the whole renewal.
            atomic_write(files.cert, cert.public_bytes(pem) + ca_cert.public_bytes(pem), mode=0o644)
            log.info("Server certificate for %s issued (%s), valid until %s", ", ".join(names), reason,
                     cert.not_valid_after_utc.date().isoformat())
            return CertificateStatus(files, ca_created, True, reason or "missing", cert.not_valid_after_utc,
                                     fingerprint(ca_cert))
    except OSError as exc:
        raise TlsError("tls_files", N_("The certificates in %(folder)s could not be written or read."),
                       folder=str(files.folder)) from exc


def load_ca_certificate(data_dir: Path) -> x509.Certificate | None:
    """The local CA certificate of this data folder, or None when there is none yet."""
    return _load_cert(TlsFiles.in_data_dir(data_dir).ca_cert)


def certificate_not_after(path: Path) -> dt.datetime | None:
    """When the first certificate in a PEM file expires (None when it cannot be read)."""
    cert = _load_cert(path)
    return cert.not_valid_after_utc if cert is not None else None


# --- for phones ----------------------------------------------------------------------------

def ca_der(cert: x509.Certificate) -> bytes:
    """The CA certificate in DER, the `.cer` form Android and iOS install."""
    return cert.public_bytes(serialization.Encoding.DER)


def ca_pem(cert: x509.Certificate) -> bytes:
    """The CA certificate in PEM."""
    return cert.public_bytes(serialization.Encoding.PEM)


def _profile_uuid(cert: x509.Certificate, part: str) -> str:
    # Stable per CA: installing the profile again replaces it instead of adding a second copy.
    digest = hashlib.sha256(ca_der(cert)).hexdigest()
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"authvault:{part}:{digest}")).upper()


def ios_profile(cert: x509.Certificate, host_name: str) -> bytes:
    """An (unsigned) iOS/iPadOS configuration profile that installs the CA as a root certificate.

    Payload type `com.apple.security.root` (Apple's Configuration Profile Reference,
    "Certificates"). After installing it, full trust is still switched on by hand under
    Settings › General › About › Certificate Trust Settings.
    """
    short = hashlib.sha256(ca_der(cert)).hexdigest()[:12]
    cert_payload = {
        "PayloadType": "com.apple.security.root",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{PROFILE_IDENTIFIER}.{short}.certificate",
        "PayloadUUID": _profile_uuid(cert, "certificate"),
        "PayloadDisplayName": common_name(cert),
        "PayloadDescription": f"Lets this device trust https://{host_name}",
        "PayloadCertificateFileName": "authvault-ca.cer",
        "PayloadContent": ca_der(cert),
    }
    profile = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{PROFILE_IDENTIFIER}.{short}",
        "PayloadUUID": _profile_uuid(cert, "profile"),
        "PayloadDisplayName": f"AuthVault ({host_name})",
        "PayloadDescription": (f"Installs the certificate authority of the AuthVault server at {host_name}, "
                               "so Safari can open it over HTTPS and use passkeys there."),
        "PayloadOrganization": "AuthVault",
        "PayloadRemovalDisallowed": False,
        "PayloadContent": [cert_payload],
    }
    return plistlib.dumps(profile, fmt=plistlib.FMT_XML)

