"""One thread for every delayed action (allocation rounds, retries, failover timeouts, kills).

A heap of deadlines instead of a ``threading.Timer`` per action: a scale run schedules thousands
of simulated task completions and status-update retries, and one thread per timer would swamp a
two-core machine. Callbacks must be short (take the cluster lock, queue events, return).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class TimerHandle:
    """Returned by :meth:`TimerQueue.call_later`; ``cancel()`` is idempotent and thread-safe."""

    __slots__ = ("_queue", "cancelled")

    def __init__(self, queue: TimerQueue | None = None) -> None:
        self.cancelled = False
        self._queue = queue  # None once the timer has left the heap

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            queue = self._queue
            if queue is not None:
                queue.note_cancelled()


# A cancelled timer stays in the heap until its deadline, holding its callback and whatever that
# refers to. Every status update arms a retry timer that its acknowledgement cancels milliseconds
# later, so a scale run kept tens of thousands of them (10 s retry interval) and the full garbage
# collections over them took hundreds of milliseconds. The heap is rebuilt without the cancelled
# ones once they are the majority (amortised O(1) per cancel).
_COMPACT_AT_LEAST = 256


class TimerQueue:
    def __init__(self, name: str = "localmesos-timers") -> None:
        self._heap: list[tuple[float, int, TimerHandle, Callable[[], object]]] = []
        self._counter = itertools.count()
        self._cancelled = 0  # cancelled entries still in the heap (an estimate: only paces compaction)
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify_all()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def call_later(self, delay: float, fn: Callable[[], object]) -> TimerHandle:
        handle = TimerHandle(self)
        with self._cond:
            if not self._stopped:
                if self._cancelled >= _COMPACT_AT_LEAST and 2 * self._cancelled > len(self._heap):
                    self._compact()
                entry = (time.monotonic() + max(0.0, delay), next(self._counter), handle, fn)
                heapq.heappush(self._heap, entry)
                # The thread sleeps until the earliest deadline; only a new earliest one changes
                # that. Waking it for every later one (two per launched task: its retry timer
                # and its simulated end) cost a thread switch each.
                if self._heap[0] is entry:
                    self._cond.notify_all()
        return handle

    def call_soon(self, fn: Callable[[], object]) -> TimerHandle:
        return self.call_later(0.0, fn)

    def note_cancelled(self) -> None:
        self._cancelled += 1

    def _compact(self) -> None:
        """Drop cancelled entries (caller holds the condition); the earliest deadline can only
        move later, so a sleeping thread at worst wakes early and sleeps again."""
        self._heap[:] = [entry for entry in self._heap if not entry[2].cancelled]
        heapq.heapify(self._heap)
        self._cancelled = 0

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    if not self._heap:
                        self._cond.wait()
                        continue
                    delay = self._heap[0][0] - time.monotonic()
                    if delay <= 0:
                        break
                    self._cond.wait(delay)
                if self._stopped:
                    return
                _, _, handle, fn = heapq.heappop(self._heap)
                handle._queue = None
            if handle.cancelled:
                continue
            try:
                fn()
            except Exception:
                logger.exception("timer callback %s failed", fn)
