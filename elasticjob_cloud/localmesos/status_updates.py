"""The agent's task status update manager: one outstanding update per task, retried until acked.

Real agents keep, per task, a queue of updates; only the head is forwarded to the master and it
is re-sent every retry interval until the scheduler's ACKNOWLEDGE for its uuid comes back; only
then does the next one go out. Schedulers rely on this (an ack-less scheduler sees the same
update again; a terminal update is never lost across a scheduler failover), so it is emulated
exactly, with the retry interval configurable (short in tests).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from .records import TERMINAL_STATES
from .timers import TimerHandle, TimerQueue

logger = logging.getLogger(__name__)

Forward = Callable[[str, dict[str, Any], dict[str, Any]], bool]


class _TaskStream:
    __slots__ = ("pending", "seen", "timer")

    def __init__(self) -> None:
        self.pending: deque[dict[str, Any]] = deque()
        self.seen: set[str] = set()
        self.timer: TimerHandle | None = None


class StatusUpdateManager:
    """Caller holds the cluster lock for every method (the timer callback takes it itself)."""

    def __init__(self, forward: Forward, timers: TimerQueue, retry_interval: float, lock: Any) -> None:
        self._forward = forward  # (framework_id, head, latest) -> False when the framework is gone
        self._timers = timers
        self._retry = retry_interval
        self._lock = lock
        self._streams: dict[tuple[str, str], _TaskStream] = {}

    def add(self, framework_id: str, status: dict[str, Any]) -> bool:
        """Queue an update (with a uuid); False for a duplicate uuid."""
        key = (framework_id, status["task_id"]["value"])
        stream = self._streams.setdefault(key, _TaskStream())
        if status["uuid"] in stream.seen:
            return False
        stream.seen.add(status["uuid"])
        stream.pending.append(status)
        if len(stream.pending) == 1:
            self._send(key, stream)
        return True

    def acknowledge(self, framework_id: str, task_id: str, status_uuid: str) -> dict[str, Any] | None:
        """Pop the head if ``status_uuid`` matches it; return the acknowledged update."""
        key = (framework_id, task_id)
        stream = self._streams.get(key)
        if stream is None or not stream.pending or stream.pending[0]["uuid"] != status_uuid:
            logger.debug("ack for %s uuid %s does not match an outstanding update", task_id, status_uuid)
            return None
        acked = stream.pending.popleft()
        if stream.timer is not None:
            stream.timer.cancel()
            stream.timer = None
        if stream.pending:
            self._send(key, stream)
        elif acked["state"] in TERMINAL_STATES:
            self._streams.pop(key, None)
        return acked

    def pending(self, framework_id: str | None = None) -> list[dict[str, Any]]:
        return [
            s
            for (fid, _), stream in self._streams.items()
            if framework_id is None or fid == framework_id
            for s in stream.pending
        ]

    def resend(self, framework_id: str | None = None) -> None:
        """Forward every outstanding head again now (framework re-subscribed, agent healed)."""
        for key, stream in list(self._streams.items()):
            if stream.pending and (framework_id is None or key[0] == framework_id):
                self._send(key, stream)

    def drop_framework(self, framework_id: str) -> None:
        for key in [k for k in self._streams if k[0] == framework_id]:
            stream = self._streams.pop(key)
            if stream.timer is not None:
                stream.timer.cancel()

    def clear(self) -> None:
        for stream in self._streams.values():
            if stream.timer is not None:
                stream.timer.cancel()
        self._streams.clear()

    def _send(self, key: tuple[str, str], stream: _TaskStream) -> None:
        if stream.timer is not None:
            stream.timer.cancel()
        head, latest = stream.pending[0], stream.pending[-1]
        if not self._forward(key[0], head, latest):
            self.drop_framework(key[0])
            return
        status_uuid = head["uuid"]  # not the update itself: the timer outlives its acknowledgement
        stream.timer = self._timers.call_later(self._retry, lambda: self._retry_head(key, status_uuid))

    def _retry_head(self, key: tuple[str, str], status_uuid: str) -> None:
        with self._lock:
            stream = self._streams.get(key)
            if stream is not None and stream.pending and stream.pending[0]["uuid"] == status_uuid:
                logger.debug("retrying update %s for task %s", status_uuid, key[1])
                stream.timer = None
                self._send(key, stream)
