"""What one import has already worked out about a file: each result computed once per file.

Detection and parsing look at the same bytes many times (twenty detectors, then the parser):
its text, its JSON, its SQLite tables. Inside `reading_once()` the helpers of `text` and `sqlite`
remember what they computed for a file, so it is read once however many detectors look at it.
What is remembered may hold secrets, so it is dropped when the block ends.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Callable, Iterator, TypeVar

T = TypeVar("T")

# (kind, id(data)) -> (data, (ok, result or exception)). Active only inside `reading_once()`.
_MEMO: contextvars.ContextVar[dict[tuple[str, int], tuple[Any, Any]] | None] = \
    contextvars.ContextVar("importer_memo", default=None)


@contextlib.contextmanager
def reading_once() -> Iterator[None]:
    """Within this block, `remember` computes each of its results once per file."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def remember(kind: str, data: Any, compute: Callable[[], T]) -> T:
    """`compute()`, or inside `reading_once()` what it gave (or raised) the first time for `data`."""
    memo = _MEMO.get()
    if memo is None:
        return compute()
    key = (kind, id(data))
    hit = memo.get(key)
    if hit is not None and hit[0] is data:  # the same object, not a reused id
        outcome = hit[1]
    else:
        try:
            outcome = (True, compute())
        except Exception as exc:  # noqa: BLE001 - remembered and raised again, as computed
            outcome = (False, exc)
        memo[key] = (data, outcome)
    if outcome[0]:
        return outcome[1]  # type: ignore[no-any-return]
    raise outcome[1]
