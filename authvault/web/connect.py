"""Reaching AuthVault from a phone: the /connect page, the local CA downloads, the passkey banner.

- `GET /connect`: the address to open, why it must be that one, and (with the local CA) the CA
  certificate with step-by-step trust instructions for iOS and Android.
- `GET /connect/ca.pem`, `/connect/ca.cer` (DER) and `/connect/authvault.mobileconfig` (iOS
  profile): the local CA, only when AuthVault serves HTTPS with its own CA.
- `passkey_reach()` (a Jinja global, so `templates/_connect_banner.html` works when imported
  without context): whether passkeys can work at the address this page was opened at, and if not,
  why and where to go instead (design.md, "Reaching it from a phone").
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography import x509
from flask import Blueprint, Response, current_app, has_request_context, render_template, request
from flask.typing import ResponseReturnValue

from .. import qr, tls
from ..config import Settings
from ..devices import passkeys
from ..errors import N_

bp = Blueprint("connect", __name__)


class NoLocalCaError(tls.TlsError):
    """The CA download was asked for, but this server does not use its own CA (or has none yet)."""

    status = 404


@dataclass(frozen=True)
class PasskeyReach:
    """Whether passkeys can work at the address this page was opened at."""

    ok: bool
    reason: str | None  # "ip", "http", "other_address", "no_name" or None
    here: str  # the origin this page was opened at, as the browser sees it
    host: str
    go_to: str | None  # the same page at the right address, when one is configured
    address: str | None  # the right address (configured HTTPS origin), if any
    rp_id: str | None


def _settings() -> Settings:
    return current_app.config["AUTHVAULT"]


def passkey_reach() -> PasskeyReach:
    """Judge the current request's address with the one rule the passkey API uses too."""
    settings = _settings()
    if not has_request_context():  # a template rendered outside a request (an e-mail, a test)
        return PasskeyReach(True, None, "", "", None, settings.origin, settings.rp_id)
    here = f"{request.scheme}://{request.host}"
    host = (urlsplit(here).hostname or "").lower()
    av = passkeys.availability(scheme=request.scheme, host=request.host, rp_id=settings.rp_id,
                               origin=settings.origin, host_name=settings.host_name)
    configured = settings.origin.rstrip("/") if settings.origin else None
    address = configured if configured and configured.startswith("https://") else None
    go_to = address + request.path if address and av.reason is not None and configured != here else None
    return PasskeyReach(av.reason is None, av.reason, here, host, go_to, address, settings.rp_id)


@bp.app_template_global("passkey_reach")
def _passkey_reach_global() -> PasskeyReach:
    return passkey_reach()


def _local_ca() -> x509.Certificate:
    settings = _settings()
    if settings.tls_mode != "local-ca":
        raise NoLocalCaError("no_local_ca", N_("This server does not use its own certificate authority: "
                                              "there is no certificate to install."))
    cert = tls.load_ca_certificate(settings.data_dir)
    if cert is None:
        raise NoLocalCaError("no_local_ca", N_("The certificate authority has not been created yet. "
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
