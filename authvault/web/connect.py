"""Reaching AuthVault from a phone: the /connect page, the local CA downloads, the passkey banner.

- `GET /connect`: the address to open, why it must be that one, and (with the local CA) the CA
  certificate with step-by-step trust instructions for iOS and Android.
- `GET /connect/ca.pem`, `/connect/ca.cer` (DER) and `/connect/authvault.mobileconfig` (iOS
  profile): the local CA, only when AuthVault serves HTTPS with its own CA.
The page and `templates/connect/_banner.html` say whether passkeys can work at the address the
page was opened at with `web/passkey_reach.py` (the one judgement, its messages written once).
"""
from __future__ import annotations

import base64

from cryptography import x509
from flask import Blueprint, Response, current_app, render_template
from flask.typing import ResponseReturnValue

from .. import qr, tls
from ..config import Settings
from ..errors import N_
from .passkey_reach import passkey_reach

bp = Blueprint("connect", __name__)


def _settings() -> Settings:
    return current_app.config["AUTHVAULT"]


def _local_ca() -> x509.Certificate:
    settings = _settings()
    if settings.tls_mode != "local-ca":
        raise tls.TlsError("no_local_ca", N_("This server does not use its own certificate authority: "
                                             "there is no certificate to install."))
    cert = tls.load_ca_certificate(settings.data_dir)
    if cert is None:
        raise tls.TlsError("no_local_ca", N_("The certificate authority has not been created yet. "
                                             "Start AuthVault with scripts/run (gunicorn) once."))
    return cert


@bp.get("/connect")
def page() -> ResponseReturnValue:
    """How to reach AuthVault from a phone, and the CA to trust when it uses its own."""
    settings = _settings()
    ca = tls.load_ca_certificate(settings.data_dir) if settings.tls_mode == "local-ca" else None
    reach = passkey_reach()
    address = reach.address
    return render_template(
        "connect/connect.html", settings=settings, mode=settings.tls_mode, address=address, reach=reach,
        address_qr=_svg_data_url(qr.make_qr_svg(address)) if address else None,
        ca_name=tls.common_name(ca) if ca else None,
        ca_fingerprint=tls.fingerprint(ca) if ca else None,
        ca_not_after=ca.not_valid_after_utc.date().isoformat() if ca else None)


def _svg_data_url(svg: str) -> str:
    # An <img> data URL rather than inline markup: the CSP allows data: images, and nothing is marked safe.
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


@bp.get("/connect/ca.pem")
def ca_pem() -> Response:
    """The local CA certificate, PEM (for computers and `curl --cacert`)."""
    return _download(tls.ca_pem(_local_ca()), "application/x-pem-file", "authvault-ca.pem")


@bp.get("/connect/ca.cer")
def ca_cer() -> Response:
    """The local CA certificate, DER (what Android's "Install a certificate" takes)."""
    return _download(tls.ca_der(_local_ca()), "application/x-x509-ca-cert", "authvault-ca.cer")


@bp.get("/connect/authvault.mobileconfig")
def ios_profile() -> Response:
    """An iOS/iPadOS configuration profile that installs the local CA."""
    settings = _settings()
    body = tls.ios_profile(_local_ca(), settings.host_name or "")
    return _download(body, "application/x-apple-aspen-config", "AuthVault-CA.mobileconfig")
