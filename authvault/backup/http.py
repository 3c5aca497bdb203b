"""HTTP to a backup account with bounds: answer size and one deadline for a whole operation.

A backup account's address is typed by a person and answered by any server at all. So every
request of the WebDAV and S3 stores goes through `BoundedSession`:

- each request has 5 s to connect and 8 s between bytes, and the whole operation (a store lives
  for one: an enable, a push, a restore) ends `operation_seconds()` (8 s) after it began. A watchdog
  shuts the sockets of the operation down at that moment, so a server that trickles its headers
  or body a byte at a time is cut off too (a per-read timeout never fires for it);
- bodies are streamed and reading stops at `MAX_ANSWER_BYTES` (a 300 MB answer took a worker to
  1 GB when bodies were read whole).

These bounds are defined here once; webdav.py and s3.py use them from here, and `as_backup_errors`
says what going over one (or any other failure of a request) means in the backup family's words.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

from . import reach
from .errors import BackupNotAStore, BackupServerError, BackupUnreachable

log = logging.getLogger(__name__)

#: Each request: seconds to connect, and seconds between two bytes of the answer.
CONNECT_SECONDS = 5.0
READ_SECONDS = 8.0
#: One store operation, all its requests together. On a home network a WebDAV or S3 request takes
#: milliseconds and an operation a dozen of them; a person waits for an enable, so 8 s it is (the
#: request that carries it then answers within 10 s).
OPERATION_SECONDS = 8.0
# What a store made from now on gets (read when its session is made, not bound at import): the app
# keeps OPERATION_SECONDS; tests that wait for the deadline shorten it with `configure`.
_operation_seconds = OPERATION_SECONDS
#: The largest answer read: a backup object of 1,000 accounts is about 0.5 MB.
MAX_ANSWER_BYTES = 16 * 1024 * 1024


def configure(*, operation_seconds: float | None = None) -> None:
    """Set the deadline of the operations started from now on (None: OPERATION_SECONDS again).

    Nothing a person sets reaches this (no setting, no environment variable, no page): the app
    keeps OPERATION_SECONDS, and tests that wait for the deadline call it to wait less.
    """
    global _operation_seconds
    if operation_seconds is not None and not 0 < operation_seconds <= OPERATION_SECONDS:
        raise ValueError("the operation deadline is shortened, never lengthened or removed")
    _operation_seconds = OPERATION_SECONDS if operation_seconds is None else float(operation_seconds)


def operation_seconds() -> float:
    """The deadline of an operation started now, in seconds."""
    return _operation_seconds


class AnswerTooLarge(Exception):
    """The server sent (or announced) more than MAX_ANSWER_BYTES."""


class OutOfTime(Exception):
    """The operation's deadline passed."""


class RefusedPeer(Exception):
    """The connection went to an address backups may not go to (backup/reach.py)."""


class _Adapter(HTTPAdapter):
    """An adapter whose connections report their sockets, so the watchdog can shut them."""

    def __init__(self, sockets: list[socket.socket]) -> None:
        self._sockets = sockets
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        sockets = self._sockets

        def tracked(base: type) -> type:
            class Conn(base):  # type: ignore[misc, valid-type]
                def connect(self) -> None:
                    super().connect()
                    sockets.append(self.sock)
                    # The address really connected to, not the one the name had when the store
                    # was made (a DNS answer can change in between: rebinding).
                    try:
                        peer = str(self.sock.getpeername()[0])
                    except (OSError, IndexError):
                        return
                    if reach.server_only(peer):
                        self.sock.close()
                        raise RefusedPeer(peer)
            return Conn

        http = type("Pool", (urllib3.HTTPConnectionPool,),
                    {"ConnectionCls": tracked(urllib3.connection.HTTPConnection)})
        https = type("Pool", (urllib3.HTTPSConnectionPool,),
                     {"ConnectionCls": tracked(urllib3.connection.HTTPSConnection)})
        self.poolmanager.pool_classes_by_scheme = {"http": http, "https": https}


@contextmanager
def as_backup_errors(where: str, kind: str, label: str) -> Iterator[None]:
    """What a bounded request to the backup account at `where` (of `kind`, called `label` in the
    log) raises, as the person is told it: an address only the server reaches is refused, a
    deadline passed or a lost connection is "cannot be reached", an answer over the bound is "not
    a server of that kind" (the size goes to the log), any other failure of `requests` is "answered
    with an error". A caller that reads some failures otherwise catches them inside the block."""
    try:
        yield
    except RefusedPeer as exc:
        raise reach.refused_address() from exc
    except OutOfTime as exc:
        raise BackupUnreachable(where) from exc
    except AnswerTooLarge as exc:
        log.warning("%s at %s sent an answer over %d bytes", label, where, MAX_ANSWER_BYTES)
        raise BackupNotAStore(where, kind) from exc
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise BackupUnreachable(where) from exc
    except requests.RequestException as exc:
        raise BackupServerError(where, type(exc).__name__) from exc


class BoundedSession:
    """A `requests.Session` for one store operation: bounded in time and in answer size."""

    def __init__(self, max_answer: int = MAX_ANSWER_BYTES) -> None:
        self.deadline = time.monotonic() + operation_seconds()
        self.max_answer = max_answer
        self._sockets: list[socket.socket] = []
        self.session = requests.Session()
        adapter = _Adapter(self._sockets)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._expired = False

    def close(self) -> None:
        """Close every connection."""
        self.session.close()

    def _cut(self) -> None:
        self._expired = True
        for sock in list(self._sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def request(self, method: str, url: str, *, decode: bool = True,
                **kwargs: Any) -> requests.Response:
        """One request; the body is read (bounded) into the response. Raises OutOfTime,
        AnswerTooLarge, or what `requests` raises."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0 or self._expired:
            raise OutOfTime()
        watchdog = threading.Timer(remaining, self._cut)
        watchdog.daemon = True
        watchdog.start()
        try:
            resp = self.session.request(method, url, stream=True, allow_redirects=False,
                                        timeout=(min(CONNECT_SECONDS, remaining), min(READ_SECONDS, remaining)),
                                        **kwargs)
            with resp:
                resp._content = self._body(resp, decode)
                resp._content_consumed = True  # type: ignore[attr-defined]
            return resp
        except RefusedPeer:
            raise
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            if isinstance(exc.__context__, RefusedPeer) or isinstance(exc.__cause__, RefusedPeer):
                raise exc.__cause__ if isinstance(exc.__cause__, RefusedPeer) else exc.__context__ from None  # type: ignore[misc]
            if self._expired:
                raise OutOfTime() from None
            if isinstance(exc, requests.RequestException):
                raise
            # Reading the raw body broke off (urllib3's own errors): what requests calls it.
            raise requests.exceptions.ChunkedEncodingError(str(type(exc).__name__)) from exc
        finally:
            watchdog.cancel()

    def _body(self, resp: requests.Response, decode: bool) -> bytes:
        announced = resp.headers.get("Content-Length") or "0"
        if not announced.isdigit() or int(announced) > self.max_answer:
            raise AnswerTooLarge()
        chunks: list[bytes] = []
        size = 0
        # read1-sized pieces: the loop sees every recv, so the deadline holds between bytes too.
        for chunk in resp.raw.stream(64 * 1024, decode_content=decode):
            size += len(chunk)
            if size > self.max_answer:
                raise AnswerTooLarge()
            chunks.append(chunk)
        if self._expired:
            raise OutOfTime()
        return b"".join(chunks)
