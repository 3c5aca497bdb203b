"""moto's S3 server with one request handled at a time, run as `python tests/moto_serial.py PORT`.

moto checks a conditional PUT (If-None-Match: *, If-Match) and then stores the object as two
steps with nothing held between them (moto/s3/responses.py, put_object), so on its threaded
server two create-only PUTs racing for one key can both succeed. AWS documents conditional
writes as atomic, and a backup claim relies on that. A lock around each request makes the
emulator keep the promise the real service keeps; connections are still accepted on many
threads, so our client's own concurrency is exercised as before.
"""
from __future__ import annotations

import sys
import threading
from typing import Any, Callable, Iterable

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def serialised(app: Callable[..., Iterable[bytes]]) -> Callable[..., list[bytes]]:
    """The WSGI app, one request at a time, the body read in full inside the lock."""
    lock = threading.Lock()

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with lock:
            result = app(environ, start_response)
            try:
                return list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

    return wrapped


def main() -> None:
    port = int(sys.argv[1])
    run_simple("127.0.0.1", port, serialised(DomainDispatcherApplication(create_backend_app)),
               threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
