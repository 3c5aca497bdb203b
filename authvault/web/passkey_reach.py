"""Whether passkeys can work at the address this request came to, and if not, why and where to go.

The judgement is `devices.passkeys.availability` (one rule: a secure context, a name and not an IP
address, the configured RP ID); its messages are written there, once, and every page and API call
that needs them takes them from `passkey_reach()`: the /connect page and its banner, the passkey
buttons, GET /api/passkeys/status, the `passkeys_unavailable` error and the offline copy's RP ID.
No blueprint here.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, has_request_context, request
from flask_babel import gettext

from ..config import Settings
from ..devices import passkeys
from .http import ApiError


@dataclass(frozen=True)
class PasskeyReach:
    """Whether passkeys can work at the address this page was opened at."""

    ok: bool
    reason: str | None  # "ip", "http", "other_address", "no_name" or None
    message: str | None  # why not, in the person's language (None when they work)
    here: str  # the origin this page was opened at, as the browser sees it
    go_to: str | None  # the same page at the right address, when one is configured
    address: str | None  # the right address (configured HTTPS origin), if any
    rp_id: str | None  # the configured RP ID
    better_url: str | None  # where passkeys work, as the API says it
    rp: passkeys.RelyingParty | None  # the relying party for this request, when they work


def _settings() -> Settings:
    return current_app.config["AUTHVAULT"]


def message_of(av: passkeys.Availability) -> str | None:
    """Why passkeys cannot work here, in the person's language (None when they work)."""
    if av.ok or not av.message:
        return None
    text = gettext(av.message)
    return text % {"rp_id": av.rp_id} if "%(rp_id)s" in text else text


def passkey_reach() -> PasskeyReach:
    """Judge the current request's address (ProxyFix applied) with the one rule."""
    settings = _settings()
    if not has_request_context():  # a template rendered outside a request (an e-mail, a test)
        return PasskeyReach(True, None, None, "", None, settings.origin, settings.rp_id, None, None)
    av = passkeys.availability(scheme=request.scheme, host=request.host, rp_id=settings.rp_id,
                               origin=settings.origin, host_name=settings.host_name)
    here = f"{request.scheme}://{request.host}"
    configured = settings.origin.rstrip("/") if settings.origin else None
    address = configured if configured and configured.startswith("https://") else None
    go_to = address + request.path if address and av.reason is not None and configured != here else None
    return PasskeyReach(av.ok, av.reason, message_of(av), here, go_to, address, settings.rp_id, av.better_url,
                        av.rp)


def require_rp() -> passkeys.RelyingParty:
    """The relying party for this request (400 passkeys_unavailable, saying why, otherwise)."""
    reach = passkey_reach()
    if reach.rp is None:
        raise ApiError(400, "passkeys_unavailable", reach.message or "", better_url=reach.better_url)
    return reach.rp
