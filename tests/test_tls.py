"""The local CA and the server certificate: chain, names, validity, renewal, file modes, iOS profile."""
from __future__ import annotations

import datetime as dt
import os
import plistlib
import shutil
import stat
import subprocess
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID

from authvault import tls

HOST = "authvault.local"
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)


def _read(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _chain(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def _verify(data_dir: Path, name: str = HOST, at: dt.datetime = NOW) -> None:
    """Verify server.pem against ca.pem as a TLS client would, for `name`, at time `at`."""
    files = tls.TlsFiles.in_data_dir(data_dir)
    store = verification.Store([_read(files.ca_cert)])
    verifier = verification.PolicyBuilder().store(store).time(at).build_server_verifier(verification.DNSName(name))
    leaf, *intermediates = _chain(files.cert)
    verifier.verify(leaf, intermediates)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def issued(data_dir: Path) -> tls.CertificateStatus:
    return tls.ensure_server_certificate(data_dir, HOST, now=NOW)


def test_first_start_creates_ca_and_server_certificate(issued: tls.CertificateStatus, data_dir: Path) -> None:
    files = tls.TlsFiles.in_data_dir(data_dir)
    assert issued.ca_created and issued.renewed and issued.reason == "missing"
    for path in (files.ca_cert, files.ca_key, files.cert, files.key):
        assert path.is_file(), path
    assert issued.ca_fingerprint == tls.fingerprint(_read(files.ca_cert))


@pytest.mark.parametrize("name", [HOST, "localhost"])
def test_chain_verifies_for_the_host_name_and_localhost(issued: tls.CertificateStatus, data_dir: Path,
                                                         name: str) -> None:
    _verify(data_dir, name)


def test_chain_does_not_verify_for_another_name(issued: tls.CertificateStatus, data_dir: Path) -> None:
    with pytest.raises(verification.VerificationError):
        _verify(data_dir, "other.local")


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl is not installed")
def test_openssl_verifies_the_chain(data_dir: Path) -> None:
    tls.ensure_server_certificate(data_dir, HOST)  # now: openssl checks against the real clock
    files = tls.TlsFiles.in_data_dir(data_dir)
    out = subprocess.run(["openssl", "verify", "-purpose", "sslserver", "-verify_hostname", HOST,
                          "-CAfile", str(files.ca_cert), str(files.cert)], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip().endswith("OK"), out.stdout + out.stderr


def test_server_certificate_names_and_usage(issued: tls.CertificateStatus, data_dir: Path) -> None:
    leaf = _chain(tls.TlsFiles.in_data_dir(data_dir).cert)[0]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [HOST, "localhost"]
    assert leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == \
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
    assert leaf.public_key().curve.name == "secp256r1"


def test_server_certificate_lasts_at_most_397_days(issued: tls.CertificateStatus, data_dir: Path) -> None:
    leaf = _chain(tls.TlsFiles.in_data_dir(data_dir).cert)[0]
    assert leaf.not_valid_after_utc - NOW <= dt.timedelta(days=397)
    # Apple's limit counts from notBefore (which is back-dated a few minutes).
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= dt.timedelta(days=398)
    assert leaf.not_valid_before_utc <= NOW


def test_ca_is_p256_for_about_ten_years_and_signs_only_leaves(issued: tls.CertificateStatus, data_dir: Path) -> None:
    ca = _read(tls.TlsFiles.in_data_dir(data_dir).ca_cert)
    assert ca.public_key().curve.name == "secp256r1"  # type: ignore[union-attr]
    assert dt.timedelta(days=3640) <= ca.not_valid_after_utc - NOW <= dt.timedelta(days=3660)
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is True and constraints.path_length == 0
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign


def test_private_keys_are_0600_whatever_the_umask(data_dir: Path) -> None:
    old = os.umask(0)
    try:
        tls.ensure_server_certificate(data_dir, HOST, now=NOW)
    finally:
        os.umask(old)
    files = tls.TlsFiles.in_data_dir(data_dir)
    assert stat.S_IMODE(files.ca_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.folder.stat().st_mode) & 0o077 == 0


def test_a_valid_certificate_is_kept(issued: tls.CertificateStatus, data_dir: Path) -> None:
    files = tls.TlsFiles.in_data_dir(data_dir)
    before = files.cert.read_bytes()
    again = tls.ensure_server_certificate(data_dir, HOST, now=NOW + dt.timedelta(days=300))
    assert (again.renewed, again.ca_created, again.reason) == (False, False, "valid")
    assert files.cert.read_bytes() == before


def test_renews_when_under_30_days_are_left_and_keeps_the_ca(issued: tls.CertificateStatus, data_dir: Path) -> None:
    files = tls.TlsFiles.in_data_dir(data_dir)
    ca_before, ca_key_before, key_before = files.ca_cert.read_bytes(), files.ca_key.read_bytes(), files.key.read_bytes()
    old_leaf = _chain(files.cert)[0]
    later = old_leaf.not_valid_after_utc - dt.timedelta(days=29)
    renewed = tls.ensure_server_certificate(data_dir, HOST, now=later)
    assert renewed.renewed and not renewed.ca_created and renewed.reason == "expires soon"
    assert files.ca_cert.read_bytes() == ca_before and files.ca_key.read_bytes() == ca_key_before
    # The server key is kept, so replacing server.pem alone is the whole renewal.
    assert files.key.read_bytes() == key_before
    new_leaf = _chain(files.cert)[0]
    assert new_leaf.serial_number != old_leaf.serial_number
    assert new_leaf.not_valid_after_utc - later <= dt.timedelta(days=397)
    _verify(data_dir, HOST, at=later + dt.timedelta(days=100))  # well past the old leaf's end


def test_does_not_renew_with_31_days_left(issued: tls.CertificateStatus, data_dir: Path) -> None:
    leaf = _chain(tls.TlsFiles.in_data_dir(data_dir).cert)[0]
    status = tls.ensure_server_certificate(data_dir, HOST, now=leaf.not_valid_after_utc - dt.timedelta(days=31))
    assert not status.renewed


def test_renews_an_expired_certificate(issued: tls.CertificateStatus, data_dir: Path) -> None:
    much_later = NOW + dt.timedelta(days=800)
    status = tls.ensure_server_certificate(data_dir, HOST, now=much_later)
    assert status.renewed and not status.ca_created
    _verify(data_dir, HOST, at=much_later)


def test_reissues_for_a_new_host_name_with_the_same_ca(issued: tls.CertificateStatus, data_dir: Path) -> None:
    status = tls.ensure_server_certificate(data_dir, "vault.home.arpa", now=NOW)
    assert status.renewed and status.reason == "host name changed" and not status.ca_created
    assert status.ca_fingerprint == issued.ca_fingerprint
    _verify(data_dir, "vault.home.arpa")
    with pytest.raises(verification.VerificationError):
        _verify(data_dir, HOST)


def test_a_lost_ca_key_makes_a_new_ca_and_a_new_certificate(issued: tls.CertificateStatus, data_dir: Path) -> None:
    tls.TlsFiles.in_data_dir(data_dir).ca_key.unlink()
    status = tls.ensure_server_certificate(data_dir, HOST, now=NOW)
    assert status.ca_created and status.renewed and status.reason == "not signed by the CA"
    assert status.ca_fingerprint != issued.ca_fingerprint
    _verify(data_dir)


def test_a_server_certificate_never_outlives_its_ca(issued: tls.CertificateStatus, data_dir: Path) -> None:
    ca = _read(tls.TlsFiles.in_data_dir(data_dir).ca_cert)
    late = ca.not_valid_after_utc - dt.timedelta(days=100)  # the CA has 100 days left: kept (> 60)
    status = tls.ensure_server_certificate(data_dir, HOST, now=late)
    assert status.renewed and not status.ca_created
    assert status.not_after == ca.not_valid_after_utc


def test_a_ca_about_to_expire_is_replaced(issued: tls.CertificateStatus, data_dir: Path) -> None:
    ca = _read(tls.TlsFiles.in_data_dir(data_dir).ca_cert)
    status = tls.ensure_server_certificate(data_dir, HOST, now=ca.not_valid_after_utc - dt.timedelta(days=10))
    assert status.ca_created and status.renewed


@pytest.mark.parametrize("host", ["192.168.1.10", "::1", "[fe80::1]"])
def test_rejects_an_ip_address_as_host_name(data_dir: Path, host: str) -> None:
    with pytest.raises(tls.TlsError) as err:
        tls.ensure_server_certificate(data_dir, host, now=NOW)
    assert err.value.code == "host_name_is_ip"


def test_ios_profile_installs_the_ca_as_a_root_certificate(issued: tls.CertificateStatus, data_dir: Path) -> None:
    ca = _read(tls.TlsFiles.in_data_dir(data_dir).ca_cert)
    raw = tls.ios_profile(ca, HOST)
    profile = plistlib.loads(raw)
    assert profile["PayloadType"] == "Configuration" and profile["PayloadVersion"] == 1
    (payload,) = profile["PayloadContent"]
    assert payload["PayloadType"] == "com.apple.security.root"
    assert payload["PayloadContent"] == tls.ca_der(ca)
    for p in (profile, payload):
        uuid.UUID(p["PayloadUUID"])
        assert p["PayloadIdentifier"] and p["PayloadDisplayName"]
    assert profile["PayloadUUID"] != payload["PayloadUUID"]
    assert payload["PayloadIdentifier"].startswith(profile["PayloadIdentifier"] + ".")
    # The same CA gives the same profile, so installing it again replaces it on the phone.
    assert tls.ios_profile(ca, HOST) == raw


def test_concurrent_starts_agree_on_one_ca(data_dir: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: tls.ensure_server_certificate(data_dir, HOST, now=NOW), range(4)))
    assert sum(r.ca_created for r in results) == 1
    assert len({r.ca_fingerprint for r in results}) == 1
    _verify(data_dir)
