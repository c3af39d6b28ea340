"""The mailbox thread's side of the reader process: the reader always holds the next batch.

Each round (`advance`, in the mailbox thread, while the daemon's thread handles batch k) the
reader works on batch k+1, handed over in the round before; meanwhile this fetches batch k+2
and moves the committed batch on the server; then it takes the reader's answer for k+1 and
hands over k+2 at once. So the reader never waits for a fetch, and fetching overlaps its work
instead of following it. Only one batch is at the reader at a time: a batch is handed over
only after the answer to the one before is in, so the pipe never fills up both ways.

A message received before but never finished (the daemon died with it) is not sent to the
reader: the pipeline handles it alone, inline, to find out whether it is to blame. A batch the
reader could not take or answer is handled inline too (its `Prepared` map is None).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from mailproc.mailbox import RawMessage
from mailproc.prepare import Prepared

Fetched = tuple[list[RawMessage], Mapping[str, Prepared] | None]
Fetch = Callable[[Callable[[str], bool]], list[RawMessage]]  # skip(key) -> the next batch


class Reader(Protocol):
    """Archives and reads a batch in another process (`mailproc.prepworker.ReaderProcess`)."""

    alive: bool  # False once it is gone: the daemon reads inline from then on

    def submit(self, raws: Sequence[RawMessage]) -> bool: ...

    def collect(self) -> Mapping[str, Prepared] | None: ...


class Ledger(Protocol):
    """What the store says about a key (`mailproc.store.Store`)."""

    @property
    def received(self) -> Mapping[str, int]: ...

    def is_done(self, key: str) -> bool: ...


@dataclass
class _Handed:
    raws: list[RawMessage]
    sent: bool | None  # None: nothing in it for the reader; False: the reader did not take it


class ReadAhead:
    def __init__(self, reader: Reader, ledger: Ledger, fetch: Fetch) -> None:
        self._reader, self._ledger, self._fetch = reader, ledger, fetch
        self._handed: _Handed | None = None

    def advance(self, move: Callable[[], None], busy: set[str]) -> Fetched:
        """The next batch to handle and the reader's work on it; `move` (the committed batch)
        runs while the reader works. `busy`: keys the daemon is handling, not to fetch again.
        On an error (fetch, move) the batch at the reader is dropped: nothing of it was
        committed, so the next fetch after reconnecting brings it again."""
        try:
            if self._handed is None:
                self._handed = self._hand(self._fetch_skipping(busy))
            following = (self._fetch_skipping(busy | {r.key for r in self._handed.raws})
                         if self._handed.raws else [])
            move()
        except BaseException:
            self.drop()
            raise
        handed, self._handed = self._handed, None
        prepared = self._answer(handed)
        if following:
            self._handed = self._hand(following)
        return handed.raws, prepared

    def drop(self, *, wait: bool = True) -> None:
        """Forget the batch at the reader: its answer is read and thrown away, or (wait=False,
        when the daemon stops and the reader is stopped next) not even waited for."""
        handed, self._handed = self._handed, None
        if handed is not None and handed.sent and wait:
            self._reader.collect()

    def _fetch_skipping(self, busy: set[str]) -> list[RawMessage]:
        ledger = self._ledger
        return self._fetch(lambda key: key in busy or ledger.is_done(key))

    def _hand(self, raws: list[RawMessage]) -> _Handed:
        received = self._ledger.received
        todo = [r for r in raws if received.get(r.key, 0) == 0]
        if not todo:
            return _Handed(raws, None)
        return _Handed(raws, self._reader.alive and self._reader.submit(todo))

    def _answer(self, handed: _Handed) -> Mapping[str, Prepared] | None:
        if handed.sent is None:
            return {}
        return self._reader.collect() if handed.sent else None
