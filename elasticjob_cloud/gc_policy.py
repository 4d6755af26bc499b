"""Garbage-collector policy for the scheduler process: long-lived state out of full collections.

The elected scheduler loads every job (configs, parsed schedules, heap entries, watch caches) once
and keeps them for its whole leadership. CPython's full (generation 2) collection walks every
tracked object, and it holds the GIL while it does: with 10,000 jobs one walk took 80-430 ms on a
two-core machine, and every thread (the cron producer writing a second's fires, the engine
launching them, kazoo answering) stood still meanwhile. ``freeze_loaded`` moves what exists after a
load into the permanent generation, so later collections walk only what came since; reference
counting still frees frozen objects as usual. ``release`` (at the end of a leadership) hands them back
to the collector, so what the stopped service leaves in cycles is not kept forever.
"""

from __future__ import annotations

import gc
import logging
import threading

log = logging.getLogger(__name__)
_lock = threading.Lock()


def freeze_loaded(what: str) -> None:
    with _lock:
        gc.freeze()
        log.info("%s loaded: %d objects kept out of full garbage collections", what, gc.get_freeze_count())


def release() -> None:
    with _lock:
        gc.unfreeze()
