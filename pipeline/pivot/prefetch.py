"""Overlap producing chunks with consuming them.

Polars (explosion) and ClickHouse (insert) both release the GIL, so on two
cores the next chunk can be built while the previous one is written.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


class Prefetched(Iterator[T]):
    """Iterate `source` in a background thread, at most `depth` items ahead.

    `producer_seconds` is the time the source itself spent producing items.
    An exception in the source is re-raised in the consumer.
    """

    def __init__(self, source: Iterable[T], depth: int = 1):
        self.producer_seconds = 0.0
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, args=(iter(source),), daemon=True)
        self._thread.start()

    def _produce(self, source: Iterator[T]) -> None:
        try:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    item = next(source)
                except StopIteration:
                    break
                finally:
                    self.producer_seconds += time.perf_counter() - started
                self._put(item)
        except BaseException as error:  # handed to the consumer, which re-raises it
            self._put(error)
            return
        self._put(_DONE)

    def _put(self, item) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def __next__(self) -> T:
        item = self._queue.get()
        if item is _DONE:
            raise StopIteration
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        """Stop the producer (after a consumer failure) so it holds no more memory."""
        self._stop.set()
        self._thread.join(timeout=30)
