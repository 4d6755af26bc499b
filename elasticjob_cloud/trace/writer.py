"""The trace's own writer thread: scheduling never waits for the database.

``put`` only appends to a bounded queue (never blocks; a full queue drops the row and counts it).
The thread takes rows in batches and writes each batch in one transaction. While the database is
down or slow, rows wait in memory; past ``memory_limit`` the oldest go to the journal file. The
journal is replayed, then memory, once a write succeeds again (retries back off up to
``MAX_BACKOFF``). ``stop`` writes what is left, or journals it if the database is still away.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime

from .journal import Journal
from .rows import Row

log = logging.getLogger(__name__)

MIN_BACKOFF, MAX_BACKOFF = 0.5, 5.0
LINGER = 0.25  # seconds a batch may wait for more rows


class TraceWriter:
    def __init__(
        self,
        write: Callable[[Sequence[Row]], None],
        journal: Journal,
        queue_size: int = 200_000,
        batch_size: int = 5000,
        memory_limit: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._write = write
        self.journal = journal
        self._queue: queue.Queue[Row] = queue.Queue(queue_size)
        self.batch_size = batch_size
        self.memory_limit = memory_limit
        self._clock = clock
        self._pending: deque[Row] = deque()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._retry_at = 0.0
        self._backoff = 0.0
        self.written = 0
        self.dropped = 0
        self.journaled = 0
        self.failures = 0
        self._idle = threading.Condition()
        self._late_lock = threading.Lock()
        self._late_since: datetime | None = None  # the earliest row time written after an outage

    # ---------------------------------------------------------------- producers (any thread)
    def put(self, row: Row) -> None:
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 10000 == 0:
                log.error("event trace queue full: %d rows dropped so far", self.dropped)

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> TraceWriter:
        self._thread = threading.Thread(target=self._run, name="trace-writer", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._take(block=False, limit=None)
        if self._pending or self.journal.has_rows():
            self._retry_at = 0.0
            self._flush()
        if self._pending:
            self.journaled += self.journal.append(self._pending)
            log.warning(
                "event trace: %d rows kept in %s for the next start", len(self._pending), self.journal.path
            )
            self._pending.clear()

    def take_late_since(self) -> datetime | None:
        """The earliest time of the rows written late (replayed after an outage) since the last call:
        statistics recount from there."""
        with self._late_lock:
            since, self._late_since = self._late_since, None
        return since

    def note_late(self, batch: Sequence[Row]) -> None:
        times = [
            v
            for row in batch
            for key in ("complete_time", "start_time")
            if isinstance(v := row.values.get(key), datetime)
        ]
        if times:
            with self._late_lock:
                earliest = min(times)
                self._late_since = earliest if self._late_since is None else min(self._late_since, earliest)

    @property
    def backlog(self) -> int:
        return self._queue.qsize() + len(self._pending)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Tests and benchmarks: True once everything put so far is written."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self.backlog or self.journal.has_rows():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(min(remaining, 0.05))
        return True

    # ---------------------------------------------------------------- the thread
    def _run(self) -> None:
        while not self._stopping.is_set():
            self._take(block=True, limit=self.batch_size * 5)
            if len(self._pending) > self.memory_limit:
                self._spill()
            if self._pending or self.journal.has_rows():
                self._flush()
            with self._idle:
                self._idle.notify_all()

    def _take(self, block: bool, limit: int | None) -> None:
        """Collect rows: with ``block``, wait for a first one, then up to ``LINGER`` seconds for more
        (fewer, larger transactions; the thread wakes a few times a second, not per row)."""
        try:
            if block:
                self._pending.append(self._queue.get(timeout=0.2 if not self._pending else 0.01))
                deadline = time.monotonic() + LINGER
                while len(self._pending) < self.batch_size and (left := deadline - time.monotonic()) > 0:
                    self._pending.append(self._queue.get(timeout=left))
            while limit is None or len(self._pending) < limit:
                self._pending.append(self._queue.get_nowait())
        except queue.Empty:
            pass

    def _spill(self) -> None:
        over = len(self._pending) - self.memory_limit // 2
        rows = [self._pending.popleft() for _ in range(over)]
        self.journaled += self.journal.append(rows)
        log.warning("event trace database away: %d rows moved to %s", over, self.journal.path)

    def _flush(self) -> None:
        if self._clock() < self._retry_at:
            return
        late = self._backoff > 0  # these rows waited for the database
        try:
            if self.journal.has_rows():
                for batch in self.journal.batches(self.batch_size):
                    self._write(batch)
                    self.note_late(batch)
                    self.written += len(batch)
                self.journal.clear()
            while self._pending:
                count = min(self.batch_size, len(self._pending))
                batch = [self._pending[i] for i in range(count)]
                self._write(batch)
                if late:
                    self.note_late(batch)
                for _ in range(count):
                    self._pending.popleft()
                self.written += count
        except Exception as exc:
            self.failures += 1
            self._backoff = min(MAX_BACKOFF, max(MIN_BACKOFF, self._backoff * 2))
            self._retry_at = self._clock() + self._backoff
            if self._backoff < MAX_BACKOFF or self.failures % 20 == 1:
                log.warning("event trace write failed (retry in %.1fs): %s", self._backoff, _short(exc))
            return
        if self._backoff:
            log.info("event trace database back: backlog written")
        self._backoff = 0.0


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]
