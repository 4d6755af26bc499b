"""The producer's thread: ``tick`` and then sleep exactly until the next fire or a change.

The sleep is an ``Event.wait(timeout=delay)``; watch callbacks mark what changed and set the event,
so a registration, update, deregistration, disable or enable is applied at once (no polling loop).
The event is cleared *before* each tick: a change that arrives during a tick wakes the next wait.
Only this thread touches the heap; watch threads only set dirty marks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .. import gc_policy
from .firing import Listener
from .schedule import MAX_BACKOFF, MIN_BACKOFF, Producer, ProducerStores

log = logging.getLogger(__name__)


class ProducerService:
    """What the composition root starts (only on the elected leader, once election exists)."""

    def __init__(
        self,
        registry: ProducerStores,
        default_time_zone: str,
        clock: Callable[[], float] = time.time,
        listener: Listener | None = None,
    ):
        self._clock = clock
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self.producer = Producer(registry, default_time_zone, clock, listener, on_change=self._wake.set)
        self._unwatch: list[Callable[[], None]] = []
        self._thread: threading.Thread | None = None

    def start(self) -> ProducerService:
        """Subscribe first, then load (in the first tick): no change can fall between the two."""
        self._unwatch = self.producer.watch()
        self._thread = threading.Thread(target=self._run, name="cron-producer", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for unwatch in self._unwatch:
            try:
                unwatch()
            except Exception:
                log.exception("producer: closing a watch failed")
        self._unwatch = []
        gc_policy.release()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        backoff = 0.0
        loaded = False
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                now = self._clock()
                # The delay counts from ``now``, the tick's start: the tick's own duration is taken
                # off the wait, or every fire after a long tick would start that much late.
                delay = now + self.producer.tick(now) - self._clock()
                backoff = 0.0
                if not loaded:  # the first tick loaded every job: keep them out of full collections
                    loaded = True
                    gc_policy.freeze_loaded("cron producer")
            except Exception:  # the loop must survive anything; the same work is retried
                backoff = min(MAX_BACKOFF, max(MIN_BACKOFF, backoff * 2))
                log.exception("producer: tick failed; retrying in %.1fs", backoff)
                delay = backoff
            if delay > 0:
                self._wake.wait(delay)
