"""A minimal, strict reader of Java object serialization: a `java.util.HashMap<String,String>`.

FreeOTP 2 writes its backup with `ObjectOutputStream`. Only what that file holds is understood
(a HashMap with primitive fields, string keys and values, back-references to strings); anything
else raises ValueError. No class is ever instantiated: this reads data, it does not deserialize.
"""

from __future__ import annotations

import struct

_MAGIC = b"\xac\xed\x00\x05"
TC_NULL, TC_REFERENCE, TC_CLASSDESC, TC_OBJECT = 0x70, 0x71, 0x72, 0x73
TC_STRING, TC_BLOCKDATA, TC_ENDBLOCKDATA, TC_LONGSTRING = 0x74, 0x77, 0x78, 0x7C
_BASE_HANDLE = 0x7E0000
_PRIMITIVE_SIZES = {"B": 1, "C": 2, "D": 8, "F": 4, "I": 4, "J": 8, "S": 2, "Z": 1}
_MAX_ENTRIES = 100_000


def is_java_serialized(data: bytes) -> bool:
    """Whether `data` starts with Java serialization's stream magic."""
    return data.startswith(_MAGIC)


def _modified_utf8(raw: bytes) -> str:
    # Java's modified UTF-8: NUL as C0 80, supplementary characters as surrogate pairs.
    decoded = raw.replace(b"\xc0\x80", b"\x00").decode("utf-8", "surrogatepass")
    return decoded.encode("utf-16", "surrogatepass").decode("utf-16")


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.handles: list[object] = []

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("truncated stream")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int(struct.unpack(">H", self.take(2))[0])

    def i32(self) -> int:
        return int(struct.unpack(">i", self.take(4))[0])

    def utf(self) -> str:
        return _modified_utf8(self.take(self.u16()))

    def string(self) -> str:
        tc = self.u8()
        if tc == TC_STRING:
            value = self.utf()
        elif tc == TC_LONGSTRING:
            length = int(struct.unpack(">q", self.take(8))[0])
            value = _modified_utf8(self.take(length))
        elif tc == TC_REFERENCE:
            index = self.i32() - _BASE_HANDLE
            if not 0 <= index < len(self.handles) or not isinstance(self.handles[index], str):
                raise ValueError("bad string reference")
            return self.handles[index]  # type: ignore[return-value]
        else:
            raise ValueError("expected a string")
        self.handles.append(value)
        return value

    def class_desc(self) -> list[tuple[str, str]]:
        if self.u8() != TC_CLASSDESC:
            raise ValueError("expected a class description")
        class_name = self.utf()
        self.take(8)  # serialVersionUID
        self.handles.append(("class", class_name))
        flags = self.u8()
        if class_name != "java.util.HashMap" or not flags & 0x02:
            raise ValueError("not a serializable HashMap")
        fields: list[tuple[str, str]] = []
        for _ in range(self.u16()):
            code = chr(self.u8())
            field_name = self.utf()
            if code not in _PRIMITIVE_SIZES:
                raise ValueError("unexpected object field")
            fields.append((code, field_name))
        if self.u8() != TC_ENDBLOCKDATA:  # no class annotations expected
            raise ValueError("unexpected class annotation")
        if self.u8() != TC_NULL:  # HashMap's superclass (AbstractMap) is not serializable
            raise ValueError("unexpected superclass")
        return fields


def read_string_hashmap(data: bytes) -> dict[str, str]:
    """The entries of a serialized `HashMap<String, String>`; ValueError on anything else."""
    if not is_java_serialized(data):
        raise ValueError("not a Java serialization stream")
    r = _Reader(data)
    r.pos = len(_MAGIC)
    if r.u8() != TC_OBJECT:
        raise ValueError("expected an object")
    fields = r.class_desc()
    r.handles.append(("object", "HashMap"))
    for code, _name in fields:
        r.take(_PRIMITIVE_SIZES[code])  # loadFactor, threshold
    tc = r.u8()
    if tc != TC_BLOCKDATA:
        raise ValueError("expected block data")
    block = r.take(r.u8())
    if len(block) < 8:
        raise ValueError("short block data")
    size = int(struct.unpack(">i", block[4:8])[0])
    if not 0 <= size <= _MAX_ENTRIES:
        raise ValueError("bad map size")
    result: dict[str, str] = {}
    for _ in range(size):
        key = r.string()
        result[key] = r.string()
    if r.u8() != TC_ENDBLOCKDATA:
        raise ValueError("expected the end of the map")
    return result
