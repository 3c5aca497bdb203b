"""What every JSON API module of web/ shares: the request body, checked fields, and ApiError
(a refusal with its HTTP status, for checks of the request itself; domain errors are mapped in
errors.py). No blueprint here, so any part may import it without importing another part.
"""
from __future__ import annotations

import json
import re
from typing import Any

from flask import request

from ..errors import N_, AuthVaultError

MAX_TEXT = 200
MAX_NOTE = 2000
MIN_PASSPHRASE = 8
MAX_GROUP = 60
_ICON_NAME = re.compile(r"[a-z0-9]{1,60}\Z")


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


def check_passphrase(passphrase: object) -> str:
    """A new passphrase, at least 8 characters (the page shows a strength hint as well)."""
    if not isinstance(passphrase, str) or len(passphrase) < MIN_PASSPHRASE:
        raise ApiError(400, "passphrase_too_short",
                       N_("Choose a passphrase of at least %(min)s characters."), min=MIN_PASSPHRASE)
    if len(passphrase) > 1024:
        raise ApiError(400, "passphrase_too_long", N_("That passphrase is too long (1024 characters at most)."))
    return passphrase


def group_name(data: dict[str, Any], key: str = "name", *, allow_empty: bool = False) -> str:
    """A group's name: text of at most MAX_GROUP characters (empty only where that means "none")."""
    name = text_field(data, key, limit=MAX_GROUP)
    if not name and not allow_empty:
        raise ApiError(400, "group_name_required", N_("Enter a name for the group."))
    return name


def icon_name(value: Any) -> str | None:
    """The icon a person chose: a bundled icon's name, "letter" for the initial, or None (automatic)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _ICON_NAME.match(value):
        raise ApiError(400, "invalid_icon", N_("icon must be the name of a bundled icon, “letter” or null."))
    return value
