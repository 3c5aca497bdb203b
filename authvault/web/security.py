"""Security headers on every response: a strict CSP without inline scripts, no framing, no caching,
and HSTS over HTTPS."""
from __future__ import annotations

from flask import Flask, Response, request

# A year, the name only (no includeSubDomains: the host name may sit under a domain whose other
# names are not ours to force onto HTTPS). Browsers ignore it on a connection whose certificate
# they do not trust, so the first visit of /connect (before the local CA is trusted) is unaffected.
HSTS = "max-age=31536000"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def init_app(app: Flask) -> None:
    """Add the headers to every response."""

    @app.after_request
    def headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
        if request.is_secure:  # served over HTTPS here, or by the trusted proxy (X-Forwarded-Proto)
            resp.headers.setdefault("Strict-Transport-Security", HSTS)
        mime = resp.mimetype or ""
        if mime != "text/css" and mime not in ("application/javascript", "text/javascript") \
                and not mime.startswith("image/"):
            # Pages and API answers can hold codes: never keep them in a cache.
            resp.headers["Cache-Control"] = "no-store"
        return resp
