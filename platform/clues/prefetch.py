"""Run a generator one step ahead in a background thread: ingest reads and cleans the next chunk
while the database writes the current one.

    with Prefetched(pieces(), depth=2) as it:
        for piece in it:
            write(piece)

Why a thread and not a process: cleaning and writing are both Python (the GIL serialises them),
but writing spends much of its time waiting for PostgreSQL (COPY, index maintenance) — with the
wait released, the reading side runs then. The win is that overlap (measured in
tests/perf/bench_ingest.py), with no pickling of records between processes.

Rules it keeps:
- the producer runs in a copy of the caller's context (contextvars: the metadata version pinned
  for the run stays pinned in the thread);
- an exception in the producer is raised in the consumer, at the position it happened;
- leaving the ``with`` block early (an exception on the writing side) stops the producer and
  waits for it: nothing keeps reading a file the caller is about to close;
- the thread closes its own database connections when it ends.

Only for work whose reads need not see the caller's uncommitted writes: the thread has its own
database connection (callers fall back to a plain loop inside a transaction).
"""
from __future__ import annotations

import contextvars
import queue
import threading
from typing import Generic, Iterator, TypeVar

T = TypeVar("T")
_END = object()


class Prefetched(Generic[T]):
    def __init__(self, source: Iterator[T], depth: int = 2):
        self._source = source
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._produce,), daemon=True,
                                        name="ingest-prefetch")

    # -- producer side ---------------------------------------------------------------------
    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        from django.db import connections

        try:
            for item in self._source:
                if not self._put((item, None)):
                    return
            self._put((_END, None))
        except BaseException as exc:  # noqa: BLE001 — handed to the consumer, raised there
            self._put((_END, exc))
        finally:
            close = getattr(self._source, "close", None)
            if close is not None:
                close()  # a generator stopped early runs its finally blocks here, in its thread
            connections.close_all()  # this thread's connections only (they are per thread)

    # -- consumer side ---------------------------------------------------------------------
    def __enter__(self) -> "Prefetched[T]":
        self._thread.start()
        return self

    def __iter__(self) -> Iterator[T]:
        while True:
            item, exc = self._queue.get()
            if exc is not None:
                raise exc
            if item is _END:
                return
            yield item

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
