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

    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class TimerQueue:
    def __init__(self, name: str = "localmesos-timers") -> None:
        self._heap: list[tuple[float, int, TimerHandle, Callable[[], object]]] = []
        self._counter = itertools.count()
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
        handle = TimerHandle()
        with self._cond:
            if not self._stopped:
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
            if handle.cancelled:
                continue
            try:
                fn()
            except Exception:
                logger.exception("timer callback %s failed", fn)
