"""What every JSON API module of web/ shares: the request body, checked fields, and ApiError
(a refusal with its HTTP status, for checks of the request itself; domain errors are mapped in
errors.py). No blueprint here, so any part may import it without importing another part.
"""
from __future__ import annotations

import json
from typing import Any

from flask import request

from ..errors import N_, AuthVaultError

MAX_TEXT = 200
MAX_NOTE = 2000


class ApiError(AuthVaultError):
    """A request the API refuses, with its status."""

    def __init__(self, status: int, code: str, message: str, **params: Any) -> None:
        super().__init__(code, message, **params)
        self.status = status


def body() -> dict[str, Any]:
    """The JSON object of the request (400 with a clear message otherwise)."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # "[[[[…" nested deeper than Python's parser goes
        data = None
    if not isinstance(data, dict):
        raise ApiError(400, "json_required", N_("Send a JSON object."))
    try:
        # A lone surrogate ("\ud800") parses but is no character: nothing could store or show it.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeError:
        raise ApiError(400, "invalid_text", N_("The request holds characters that are not text.")) from None
    return data


def text_field(data: dict[str, Any], key: str, *, limit: int = MAX_TEXT, required: bool = False) -> str:
    """A string field, trimmed and length-checked."""
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ApiError(400, "invalid_field", N_("%(field)s must be text."), field=key)
    value = value.strip()
    if required and not value:
        raise ApiError(400, "missing_field", N_("%(field)s is required."), field=key)
    if len(value) > limit:
        raise ApiError(400, "field_too_long", N_("%(field)s can be at most %(max)s characters."),
                       field=key, max=limit)
    return value
