"""The engine's thread: take events from the inbox, apply them, run a launch round when something
changed, flush the running-state writes, sleep until the next event or timer. No fixed-rate polling:
the longest sleep without an event is ``HOUSEKEEPING`` seconds, and a wake-up costs nothing when
nothing changed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from .. import gc_policy
from .engine import Engine
from .events import Event, Inbox

log = logging.getLogger(__name__)

HOUSEKEEPING = 5.0
MIN_BACKOFF, MAX_BACKOFF = 0.1, 5.0


class EngineLoop:
    def __init__(self, engine: Engine, inbox: Inbox, clock: Callable[[], float] = time.time):
        self.engine = engine
        self.inbox = inbox
        self.clock = clock
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._backoff = 0.0
        self._loaded = False  # the first round loads the catalog: its objects are then frozen
        self._handlers: dict[str, Callable[..., Any]] = {
            "registered": lambda now, fid, master: engine.on_registered(fid, master, now),
            "reregistered": lambda now, fid, master: engine.on_registered(fid, master, now),
            "disconnected": lambda now: engine.on_disconnected(),
            "offers": lambda now, offers: engine.on_offers(offers, now),
            "rescinded": lambda now, offer_id: engine.offers.take([offer_id]),
            "status": lambda now, status: engine.statuses.on_status(status, now),
            "agent_lost": lambda now, agent: engine.on_agent_lost(agent, now),
            "executor_lost": lambda now, executor, agent: log.warning(
                "executor %s lost on %s", executor, agent
            ),
            "error": lambda now, message: log.error("Mesos master reported an error: %s", message),
            "wake": lambda now: setattr(engine, "dirty", True),
            "reconcile": lambda now, explicit: engine.reconcile(explicit, now),
            "call": lambda now, function: function(),
        }

    def start(self) -> EngineLoop:
        self._thread = threading.Thread(target=self._run, name="mesos-engine", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self.inbox.put("stop")
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _timeout(self) -> float:
        now = self.clock()
        deadline = self.engine.next_deadline()
        if self.engine.dirty:  # a round was deferred (e.g. a launch transaction lost a race)
            deadline = now + MIN_BACKOFF if deadline is None else min(deadline, now + MIN_BACKOFF)
        timeout = HOUSEKEEPING if deadline is None else min(HOUSEKEEPING, max(0.0, deadline - now))
        return max(timeout, self._backoff) if self._backoff else timeout

    def _run(self) -> None:
        while not self._stopping.is_set():
            first = self.inbox.get(self._timeout())
            events = ([first] if first is not None else []) + self.inbox.drain()
            if any(event.kind == "stop" for event in events):
                return
            self._step(events)

    def _step(self, events: list[Event]) -> None:
        now = self.clock()
        for event in events:
            try:
                self._handlers[event.kind](now, *event.args)
            except Exception:
                log.exception("engine: handling %s failed", event.kind)
                self.engine.dirty = True
        try:
            self.engine.flush()  # removals first: a relaunch of the same shard must not collide
            self.engine.timers(now)
            if self.engine.dirty:
                self.engine.round(now)
            self.engine.flush()
            self._backoff = 0.0
            if not self._loaded:
                self._loaded = True
                gc_policy.freeze_loaded("engine catalog")
        except Exception:  # ZooKeeper away, most likely: the same work is retried after a backoff
            self._backoff = min(MAX_BACKOFF, max(MIN_BACKOFF, self._backoff * 2))
            self.engine.dirty = True
            log.exception("engine: round failed; retrying in %.1fs", self._backoff)
