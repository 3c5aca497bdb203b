"""A file as text and as JSON: UTF-8 without a byte-order mark, parsed once per import."""

from __future__ import annotations

import json
from typing import Any

from .memo import remember


def text(data: bytes) -> str:
    """The file as UTF-8 text, without a byte-order mark."""
    return remember("text", data, lambda: data.decode("utf-8-sig"))


def looks_like_text(data: bytes) -> bool:
    """Whether `data` decodes as UTF-8 text without NUL bytes."""
    if b"\x00" in data:
        return False
    try:
        text(data)
    except UnicodeDecodeError:
        return False
    return True


def load_json(data: bytes | str) -> Any:
    """Parse JSON from bytes or text (raises ValueError on anything else)."""
    if isinstance(data, bytes):
        raw = data
        return remember("json", raw, lambda: json.loads(text(raw)))
    return json.loads(data)


def peek_json(data: bytes) -> Any:
    """`load_json` for detection: None when the data is not JSON."""
    stripped = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] not in (b"{", b"["):
        return None
    try:
        return load_json(data)
    except (ValueError, RecursionError):
        return None
