"""Long-lived event streams: chunked RecordIO over one HTTP response, as Mesos sends them.

The master and the agents never write to a subscriber's socket while holding the cluster lock:
they :meth:`EventStream.send` into a queue and the HTTP handler thread that owns the connection
writes it out. pymesos makes synchronous calls from inside its event callbacks, so a master that
wrote under its lock could deadlock against a client that is busy calling it. The owning thread
also watches the socket, so a scheduler that goes away is noticed at once (failover timeouts
start then), not at the next heartbeat.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


def record(event: dict[str, Any]) -> bytes:
    """One RecordIO record: ``<decimal length>\\n<json>``."""
    data = json.dumps(event, separators=(",", ":")).encode()
    return str(len(data)).encode() + b"\n" + data


def chunk(data: bytes) -> bytes:
    """One HTTP/1.1 chunk (``Transfer-Encoding: chunked``)."""
    return b"%x\r\n%s\r\n" % (len(data), data)


class EventStream:
    """Queue of events for one subscriber connection; ``serve`` runs on the handler thread."""

    def __init__(self, stream_id: str, heartbeat_interval: float | None) -> None:
        self.stream_id = stream_id
        self.heartbeat_interval = heartbeat_interval
        self._events: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()
        self._closed = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        # never block a sender (who may hold the master's lock) on a full wake-up pipe: one byte
        # pending is enough to wake the writer, extra bytes are dropped
        self._wake_w.setblocking(False)
        self.on_closed: Callable[[EventStream], None] | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    def send(self, event: dict[str, Any]) -> None:
        with self._lock:
            if self._closed:
                return
            # The writer takes every queued event at once, so only the first one since it last
            # took them needs to wake it: one syscall per batch, not per event (a round of 17
            # launches spent most of its time here).
            wake = not self._events
            self._events.append(event)
        if wake:
            self._wake()

    def close(self) -> None:
        """End the stream: the handler writes the last chunk and closes the connection."""
        with self._lock:
            self._closed = True
        self._wake()

    def close_quietly(self) -> None:
        """Close without the ``on_closed`` callback: its owner has already replaced or dropped it."""
        self.on_closed = None
        self.close()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass

    def serve(self, connection: socket.socket, wfile: Any) -> None:
        """Write queued events until closed by either side; then call ``on_closed`` once."""
        try:
            self._serve(connection, wfile)
        except OSError as exc:
            logger.debug("stream %s: client went away: %s", self.stream_id, exc)
        finally:
            with self._lock:
                self._closed = True
            for sock in (self._wake_r, self._wake_w):
                try:
                    sock.close()
                except OSError:
                    pass
            if self.on_closed is not None:
                try:
                    self.on_closed(self)
                except Exception:
                    logger.exception("stream %s: close callback failed", self.stream_id)

    def _serve(self, connection: socket.socket, wfile: Any) -> None:
        """Heartbeats keep their own schedule: every interval, whatever else is sent."""
        interval = self.heartbeat_interval
        next_beat = None if interval is None else time.monotonic() + interval
        while True:
            with self._lock:
                events = list(self._events)
                self._events.clear()
                closed = self._closed
            if next_beat is not None and interval is not None and time.monotonic() >= next_beat:
                events.append({"type": "HEARTBEAT"})
                next_beat = max(next_beat + interval, time.monotonic())
            if events:
                wfile.write(b"".join(chunk(record(e)) for e in events))
                wfile.flush()
            if closed:
                wfile.write(b"0\r\n\r\n")
                wfile.flush()
                return
            wait = None if next_beat is None else max(0.0, next_beat - time.monotonic())
            readable, _, _ = select.select([connection, self._wake_r], [], [], wait)
            if self._wake_r in readable:
                try:
                    while self._wake_r.recv(4096):
                        pass
                except BlockingIOError:
                    pass
            if connection in readable:
                try:
                    data = connection.recv(4096, socket.MSG_PEEK)
                except BlockingIOError:
                    data = b"?"
                if not data:
                    logger.debug("stream %s: peer closed", self.stream_id)
                    return
                connection.recv(len(data))  # a client never sends more; discard it
