"""Static files cached for good, and compressed responses.

`url_for("static", filename=...)` carries `?v=<hash of the file>`: such a URL is answered with
`Cache-Control: public, max-age=31536000, immutable`, so a phone never asks again (a changed file
gets a new URL). A static URL without the current hash is `no-cache` (revalidated). Responses are
compressed (Brotli or gzip, by the browser's Accept-Encoding) with Flask-Compress, static files
included (with immutable caching, each phone fetches a version once).
"""
from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from flask_compress import Compress

YEAR = 365 * 24 * 3600


@functools.lru_cache(maxsize=1024)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    # Keyed by the file's modification time and size, so a changed file is hashed again; the
    # cache is safe across threads and bounded (no lock, no dict of our own).
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def file_version(folder: str, filename: str) -> str | None:
    """The first 12 hex digits of the SHA-256 of a static file (None if it does not exist)."""
    path = Path(folder) / filename
    try:
        st = os.stat(path)
        return _digest(str(path), st.st_mtime_ns, st.st_size)
    except OSError:
        return None


def init_app(app: Flask) -> None:
    """Version static URLs, cache versioned ones for good, compress responses."""
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    # Static files are streamed responses; browsers over plain HTTP offer gzip only (br needs HTTPS).
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("COMPRESS_MIMETYPES", [
        "text/html", "text/css", "text/plain", "text/javascript", "application/javascript",
        "application/json", "image/svg+xml"])
    app.config.setdefault("COMPRESS_REGISTER", True)
    compress = Compress()
    compress.init_app(app)
    folder = app.static_folder or ""

    @app.url_defaults
    def _version(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = file_version(folder, values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def _static_cache(resp: Response) -> Response:
        if request.endpoint != "static":
            return resp
        filename = (request.view_args or {}).get("filename", "")
        current = file_version(folder, filename)
        if current and request.args.get("v") == current and resp.status_code == 200:
            resp.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
            resp.headers.pop("Last-Modified", None)
        else:
            resp.headers["Cache-Control"] = "no-cache"
        return resp
