"""Bounded concurrency for costly work, across threads and gunicorn worker processes.

A home server has 1-4 GB and two to four cores. A KDF run by an import (Argon2id: 64 MiB, scrypt
up to 64 MiB) or an image decode (up to ~100 MB while a big photo is decoded) is fine once; eight
at once across two workers are not. A `Gate` admits at most `slots` holders at a time on the whole
server: slot *i* is an exclusive `flock` on `<dir>/<name>.<i>.lock`, taken on a fresh descriptor,
so it excludes other threads of this process and other worker processes alike, and the kernel
drops it when its holder dies (kill -9 leaves no stale slot). A holder that cannot get a slot
within `wait` seconds gets `ServerBusy` (the person can retry), never a hang.

Argon2id also gets `argon2id()`, one derivation per process at a time: OpenSSL's Argon2 (which
`cryptography` calls with threads = lanes, and a process-wide pool of `os.cpu_count()` threads)
deadlocks when two derivations run at once. Each takes one pool thread and then waits in
`ossl_crypto_thread_start` for another that the other derivation holds, forever (seen with gdb:
both threads blocked in `pthread_cond_wait` under `kdf_argon2_derive`). The pool is per process,
so a per-process lock removes the deadlock; the server-wide gate bounds memory.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from . import files
from .errors import N_, AuthVaultError

_lock_dir: Path | None = None
_gates: list["Gate"] = []


class ServerBusy(AuthVaultError):
    """Too many costly requests at once: try again in a moment."""

    def __init__(self) -> None:
        super().__init__("server_busy", N_("The server is busy with other uploads. Try again in a moment."))


def configure(lock_dir: str | os.PathLike[str]) -> None:
    """Where the slot files live (the data folder's lock folder); set once by the app at start."""
    global _lock_dir
    path = Path(lock_dir)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    for gate in _gates:  # made now, so no request leaves a new file behind
        for i in range(gate.slots):
            os.close(os.open(path / f"{gate.name}.{i}.lock", os.O_RDWR | os.O_CREAT, 0o600))
    _lock_dir = path


class Gate:
    """At most `slots` holders at once on the server (all workers sharing the lock folder)."""

    def __init__(self, name: str, slots: int, wait: float, per_process: int | None = None) -> None:
        self.name = name
        self.slots = slots
        self.wait = wait
        # At most `per_process` holders in one process (all `slots` when not given); without a
        # lock folder (a script, a unit test) that is the only bound.
        self._local = threading.BoundedSemaphore(per_process or slots)
        _gates.append(self)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold one slot for the block; ServerBusy if none frees up within `wait` seconds."""
        deadline = time.monotonic() + self.wait
        if not self._local.acquire(timeout=self.wait):
            raise ServerBusy()
        try:
            fd = self._take_slot(deadline) if _lock_dir is not None else None
            try:
                yield
            finally:
                if fd is not None:
                    os.close(fd)  # closing releases the flock
        finally:
            self._local.release()

    def _take_slot(self, deadline: float) -> int:
        assert _lock_dir is not None
        paths = [_lock_dir / f"{self.name}.{i}.lock" for i in range(self.slots)]
        pause = 0.002
        while True:
            for path in paths:
                fd = files.try_lock(path)  # the one file lock (files.py), without waiting
                if fd is not None:
                    return fd  # kept: the caller closes it
            if time.monotonic() >= deadline:
                raise ServerBusy()
            time.sleep(pause)
            pause = min(pause * 2, 0.05)


#: Key derivations a file asks for (Argon2id of Stratum, scrypt of Aegis and backups, PBKDF2).
KDF_GATE = Gate("kdf", slots=2, wait=20.0)
#: Image decodes (QR uploads): each may use up to qr.DECODE_BUDGET_BYTES while it runs; one per
#: worker, so a worker's memory ceiling holds, and two on the server.
DECODE_GATE = Gate("decode", slots=2, wait=20.0, per_process=1)

_argon2_lock = threading.Lock()  # OpenSSL's Argon2 thread pool is per process: one user at a time


def argon2id(password: bytes, salt: bytes, *, iterations: int, lanes: int, memory_cost: int,
             length: int = 32) -> bytes:
    """Argon2id that cannot deadlock: one derivation per process, bounded on the whole server."""
    with KDF_GATE.hold(), _argon2_lock:
        return Argon2id(salt=salt, length=length, iterations=iterations, lanes=lanes,
                        memory_cost=memory_cost).derive(password)
