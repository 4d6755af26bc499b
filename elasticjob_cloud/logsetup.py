"""Where the scheduler's log goes and in what form (called by the command line only: the
package's modules just log).

* stderr always (``text`` by default, as before);
* ``log_file`` set: also a rotating file (``log_max_bytes`` per file, ``log_backup_count`` kept),
  as the original's ``logs/`` directory;
* ``log_format=json``: one JSON object per line (``time``, ``level``, ``logger``, ``message``, and
  ``job`` / ``shard`` / ``task_id`` / ``exception`` when known), for log shippers.

A line about a task names it by its ID (``{job}@-@{shard}@-@{type}@-@{agent}@-@{uuid}``); the
``TaskFields`` filter finds that ID in the line's arguments and adds its job and shard as fields
(JSON) or as a ``[job=… shard=…]`` suffix (text), so a search by job or shard finds every such line.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .settings import Settings, SettingsError

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(task_suffix)s"
TASK_ID = re.compile(
    r"(?P<job>[A-Za-z0-9_.-]+)@-@(?P<shard>\d+)@-@(?:READY|FAILOVER)@-@[^\s@,;:'\"]+@-@[\w-]+"
)
FORMATS = ("text", "json")


class TaskFields(logging.Filter):
    """Adds ``job``, ``shard`` and ``task_id`` to a record whose message names a task ID."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "task_id", None) is None:
            found = None
            for value in record.args if isinstance(record.args, tuple) else ():
                if isinstance(value, str) and "@-@" in value and (found := TASK_ID.search(value)):
                    break
            if found is None and isinstance(record.msg, str) and "@-@" in record.msg:
                found = TASK_ID.search(record.msg)
            if found is not None:
                record.task_id, record.job, record.shard = found.group(0), found["job"], int(found["shard"])
        has_task = getattr(record, "task_id", None) is not None
        job, shard = getattr(record, "job", None), getattr(record, "shard", None)
        record.task_suffix = f" [job={job} shard={shard}]" if has_task else ""
        return True


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "thread": record.threadName,
        }
        for key in ("job", "shard", "task_id"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def formatter(kind: str) -> logging.Formatter:
    return JsonLines() if kind == "json" else logging.Formatter(TEXT_FORMAT)


def configure(
    settings: Settings | None = None, level: str | int = "INFO", unless_configured: bool = False
) -> list[logging.Handler]:
    """Install stderr, plus the rotating file when ``log_file`` is set, in place of the handlers an
    earlier call installed. ``unless_configured``: leave a root logger that has handlers of someone
    else's (an embedding program, a test runner) alone, as ``logging.basicConfig`` does."""
    kind = (settings.log_format if settings else "text").strip().lower() or "text"
    if kind not in FORMATS:
        raise SettingsError(f"setting log_format must be one of {', '.join(FORMATS)}, got {kind!r}")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if settings is not None and settings.log_file:
        path = Path(settings.log_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                path, maxBytes=settings.log_max_bytes, backupCount=settings.log_backup_count, encoding="utf-8"
            )
        )
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if getattr(handler, "elasticjob_cloud", False)]
    if unless_configured and len(ours) < len(root.handlers):
        for handler in handlers:
            handler.close()
        return []
    for old in ours:
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        handler.setFormatter(formatter(kind))
        handler.addFilter(TaskFields())
        handler.elasticjob_cloud = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else getattr(logging, str(level).upper(), logging.INFO))
    # kazoo's DEBUG lines print the data of every ZooKeeper node it reads, the console's signing key
    # (/config/console_secret) and job parameters among them: a DEBUG log never carries them.
    logging.getLogger("kazoo").setLevel(max(root.level, logging.INFO))
    return handlers
