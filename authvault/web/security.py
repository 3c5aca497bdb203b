"""Security headers on every response: a strict CSP without inline scripts, no framing, no caching."""
from __future__ import annotations

from flask import Flask, Response

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
        if resp.mimetype != "text/css" and resp.mimetype not in ("application/javascript", "text/javascript") \
                and not resp.mimetype.startswith("image/"):
            # Pages and API answers can hold codes: never keep them in a cache.
            resp.headers["Cache-Control"] = "no-store"
        return resp
