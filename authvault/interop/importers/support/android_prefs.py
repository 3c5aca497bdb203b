"""Android shared-preferences XML (`shared_prefs/*.xml`), where several apps keep their tokens.

Parsed with expat and any DTD or entity declaration refused outright (these files never carry
one), so no entity expansion and no external entity can be smuggled in.
"""

from __future__ import annotations

import xml.parsers.expat
from typing import Any


class _NoDtd(ValueError):
    pass


def android_prefs(data: bytes) -> dict[str, str]:
    """The entries of an Android shared_prefs XML file (<map><string name=..>text</string>...).

    Values of <int>, <long>, <boolean> and <float> come from their `value` attribute. A DTD or
    entity declaration is refused outright: these files never carry one.
    """
    parser = xml.parsers.expat.ParserCreate()
    result: dict[str, str] = {}
    stack: list[str] = []
    current: dict[str, Any] = {}

    def refuse(*_args: Any) -> None:
        raise _NoDtd("DTDs are not allowed")

    def start(tag: str, attrs: dict[str, str]) -> None:
        stack.append(tag)
        if len(stack) == 1 and tag != "map":
            raise ValueError("not a shared preferences file")
        if len(stack) == 2:
            current.clear()
            current["name"] = attrs.get("name", "")
            current["value"] = attrs.get("value")
            current["text"] = []

    def end(tag: str) -> None:
        if len(stack) == 2 and current.get("name") is not None:
            value = current["value"] if current["value"] is not None else "".join(current["text"])
            result[current["name"]] = value
        stack.pop()

    def chars(content: str) -> None:
        if len(stack) == 2:
            current["text"].append(content)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.Parse(data, True)
    if not result and b"<map" not in data:
        raise ValueError("not a shared preferences file")
    return result


def is_android_prefs(data: bytes) -> bool:
    """Cheap check: an XML document whose root is <map>."""
    head = data[:400].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        return False
    return b"<map" in head
