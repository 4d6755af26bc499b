"""Rows that could not reach the database and did not fit in memory: appended to a local file (one
JSON line each), replayed when the database is back, then the file is emptied. Replaying twice is
harmless (row IDs are deterministic and writes idempotent), so a crash during a replay loses nothing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from .rows import Row

log = logging.getLogger(__name__)


class Journal:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    def append(self, rows: Iterable[Row]) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        count = 0
        with open(self.path, "a", encoding="utf-8") as file:
            for row in rows:
                file.write(row.to_json() + "\n")
                count += 1
            file.flush()
            os.fsync(file.fileno())
        return count

    def has_rows(self) -> bool:
        return self.path.is_file() and self.path.stat().st_size > 0

    def batches(self, size: int) -> Iterator[list[Row]]:
        """The journal's rows, ``size`` at a time; a line that does not parse is logged and skipped."""
        if not self.path.is_file():
            return
        batch: list[Row] = []
        with open(self.path, encoding="utf-8") as file:
            for number, line in enumerate(file, 1):
                if not line.strip():
                    continue
                try:
                    batch.append(Row.from_json(line))
                except (ValueError, KeyError, TypeError) as exc:
                    log.warning("event trace journal %s line %d skipped: %s", self.path, number, exc)
                    continue
                if len(batch) >= size:
                    yield batch
                    batch = []
        if batch:
            yield batch

    def clear(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
