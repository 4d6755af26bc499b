"""The event trace of one scheduler process: database, writer thread, recorder, search, statistics.

Started by the composition root when a trace database is configured. The recorder (the scheduler's
``TraceSink``) is fed by the leader's engine and producer; search and statistics answer the REST API
on every instance. A housekeeping thread computes the statistics (on the leader) every minute and
purges rows older than ``retention_days`` (batch by batch) every hour.

The database need not be up at start: the schema is migrated on the first successful connection,
rows wait in the writer meanwhile, and queries answer ``TraceUnavailable`` (503).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from ..exceptions import TraceUnavailable
from .database import open_engine
from .journal import Journal
from .migrate import upgrade
from .recorder import TraceRecorder
from .rows import EXEC_COMPLETE, Row
from .search import TraceSearch
from .statistics import Statistics
from .store import TraceStore
from .writer import TraceWriter

log = logging.getLogger(__name__)

PURGE_EVERY = 3600.0


class TraceService:
    def __init__(
        self,
        url: URL | str,
        time_zone: str,
        journal_path: str | Path,
        retention_days: int = 30,
        registered_count: Callable[[], int] | None = None,
        is_leader: Callable[[], bool] = lambda: True,
        statistics_every: float = 60.0,
        clock: Callable[[], float] = time.time,
    ):
        self.zone = ZoneInfo(time_zone)
        self.engine: Engine = open_engine(url, migrate=False)
        self.retention_days = retention_days
        self.is_leader = is_leader
        self.statistics_every = statistics_every
        self.clock = clock
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        self.store = TraceStore(self.engine)
        self.writer = TraceWriter(self._write, Journal(journal_path))
        self.recorder = TraceRecorder(self.writer.put, self.zone)
        self.search = TraceSearch(self.engine, self.zone)
        self.statistics = Statistics(self.engine, self.zone, registered_count, clock)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_purge = 0.0

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> TraceService:
        try:
            self.ensure_schema()
        except SQLAlchemyError as exc:
            log.warning("event trace database not reachable at start (rows wait): %s", exc)
        self.writer.start()
        self._thread = threading.Thread(target=self._housekeeping, name="trace-housekeeping", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(10)
        self.writer.stop()
        self.engine.dispose()

    def ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._schema_lock:
            if not self._schema_ready:
                upgrade(self.engine)
                self._schema_ready = True

    def _write(self, rows: list[Row] | Any) -> None:
        self.ensure_schema()
        self.store.write(rows)

    # ---------------------------------------------------------------- queries
    @contextmanager
    def reading(self) -> Iterator[None]:
        """Database errors of a query become ``TraceUnavailable`` (503), never a stack trace."""
        try:
            self.ensure_schema()
            yield
        except SQLAlchemyError as exc:
            log.warning("event trace query failed: %s", str(exc).splitlines()[0] if str(exc) else exc)
            raise TraceUnavailable("the event trace database cannot be reached") from None

    # ---------------------------------------------------------------- housekeeping
    def housekeeping(self, now: float) -> None:
        """One pass: statistics (leader only) and, once an hour, retention."""
        self.ensure_schema()
        if self.is_leader():
            late_since = self.writer.take_late_since()
            try:
                self.statistics.run(now, late_since)
            except Exception:
                if late_since is not None:  # not lost: the next pass recounts from there
                    self.writer.note_late([Row(EXEC_COMPLETE, {"complete_time": late_since})])
                raise
        if now >= self._next_purge and self.retention_days > 0:
            self._next_purge = now + PURGE_EVERY
            cutoff = self.statistics.local(now) - timedelta(days=self.retention_days)
            deleted = self.store.purge(cutoff)
            if deleted:
                log.info("event trace: %d rows older than %d days purged", deleted, self.retention_days)

    def _housekeeping(self) -> None:
        while not self._stopping.wait(self._delay()):
            try:
                self.housekeeping(self.clock())
            except Exception as exc:
                log.warning("event trace housekeeping failed: %s", exc)

    def _delay(self) -> float:
        """Shortly after the next boundary of ``statistics_every`` (minutes close on the minute)."""
        every = self.statistics_every
        return every - (self.clock() % every) + min(2.0, every / 10)
