"""Every app-wide hook in one place: what every template can use (context processors, filters,
globals) and what runs around every request. No blueprint here: `init_app` registers them on the
app, so no part's blueprint reaches into the others' pages.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, has_request_context

from .passkey_reach import PasskeyReach, passkey_reach


def passkey_context() -> dict[str, Any]:
    """What every page with passkey buttons needs: whether they work here, and if not why."""
    if not has_request_context():  # a template rendered outside a request has no address to judge
        return {"passkeys_available": False}
    reach = passkey_reach()
    return {"passkeys_available": reach.ok, "passkeys_reason": reach.reason,
            "passkeys_message": reach.message, "passkeys_better_url": reach.better_url}


def init_app(app: Flask) -> None:
    """Register the hooks on `app`."""

    @app.template_global("passkey_reach")
    def _passkey_reach() -> PasskeyReach:
        # A global, so templates/connect/_banner.html works when imported without context.
        return passkey_reach()

    app.context_processor(passkey_context)
