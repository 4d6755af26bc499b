"""The engine's inbox: driver callbacks, wake-ups and operator requests, as one queue.

Everything that changes the engine's state goes through this queue and is handled on the engine's
one thread, so the launcher, status handling and reconciliation never race each other. Producers
(pymesos's I/O thread, ZooKeeper watch threads, the cron producer, REST handlers) only enqueue.
A wake-up is coalesced: many changes before the engine looks produce one round.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    kind: str  # registered, reregistered, disconnected, offers, rescinded, status, agent_lost,
    #            executor_lost, error, wake, reconcile, stop
    args: tuple[Any, ...] = ()


class Inbox:
    """Implements ``driver.EventSink`` (pymesos callbacks) and the wake-ups of every other source."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._wake_pending = threading.Event()

    def put(self, kind: str, *args: Any) -> None:
        self._queue.put(Event(kind, args))

    def get(self, timeout: float | None) -> Event | None:
        try:
            event = (
                self._queue.get(timeout=timeout)
                if timeout is None or timeout > 0
                else self._queue.get_nowait()
            )
        except queue.Empty:
            return None
        if event.kind == "wake":
            self._wake_pending.clear()
        return event

    def drain(self, limit: int = 10000) -> list[Event]:
        events: list[Event] = []
        while len(events) < limit and (event := self.get(0)) is not None:
            events.append(event)
        return events

    def wake(self, *_: Any) -> None:
        """A ready counter, failover entry, config or disable mark changed: one launch round soon."""
        if not self._wake_pending.is_set():
            self._wake_pending.set()
            self.put("wake")

    # ------------------------------------------------------------ driver.EventSink
    def registered(self, framework_id: str, master: str) -> None:
        self.put("registered", framework_id, master)

    def reregistered(self, framework_id: str, master: str) -> None:
        self.put("reregistered", framework_id, master)

    def disconnected(self) -> None:
        self.put("disconnected")

    def offers(self, offers: list[dict[str, Any]]) -> None:
        self.put("offers", offers)

    def rescinded(self, offer_id: str) -> None:
        self.put("rescinded", offer_id)

    def status(self, status: dict[str, Any]) -> None:
        self.put("status", status)

    def agent_lost(self, agent_id: str) -> None:
        self.put("agent_lost", agent_id)

    def executor_lost(self, executor_id: str, agent_id: str) -> None:
        self.put("executor_lost", executor_id, agent_id)

    def error(self, message: str) -> None:
        self.put("error", message)
