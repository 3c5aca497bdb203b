"""A plain text file of otpauth:// URIs, one a line (Google Authenticator URI lists, many apps).

Lines holding an `otpauth-migration://` URI (a Google Authenticator transfer code copied as text)
are read too. A line that is not a usable URI is skipped with its reason; a file without a
single otpauth line is not this format.
"""

from __future__ import annotations

from ...errors import N_
from .base import DamagedFile, EntryCollector, Importer
from .support.text import looks_like_text, text
from .support.uris import add_uri, uri_lines


def read_uri_text(content: str, out: EntryCollector, label: str) -> None:
    """Add every URI line of `content` to `out`; no URI at all is a damaged file."""
    lines = uri_lines(content)
    if not lines:
        raise DamagedFile(label, N_("no otpauth URI in it"))
    for line in lines:
        add_uri(out, line)


def mostly_uris(data: bytes, marker: str = "") -> bool:
    """Whether `data` is text whose non-empty lines are mostly otpauth URIs (holding `marker`)."""
    if not looks_like_text(data):
        return False
    # Comment lines ("# ...", as extract_otp_secrets and hand-kept lists have) do not count.
    lines = [line.strip() for line in text(data).splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    hits = [
        line for line in lines if line.lower().startswith(("otpauth://", "otpauth-migration://"))
    ]
    if not hits or len(hits) * 2 < len(lines):
        return False
    return not marker or any(marker in line for line in hits)


class OtpauthTextImporter(Importer):
    """otpauth URIs, one per line."""

    name = "otpauth_text"
    label = "Text file of otpauth URIs"
    generic = True

    def detect(self, data: bytes, filename: str | None) -> bool:
        """A text file whose lines are mostly otpauth URIs."""
        return mostly_uris(data)

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        read_uri_text(text(data), out, self.label)
