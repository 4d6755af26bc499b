"""Scheduler settings: the original's properties file, overridden by environment, then by flags.

Precedence (lowest to highest): built-in defaults, ``conf/elastic-job-cloud-scheduler.properties``
(or ``--conf``), an environment variable with the key's exact name (as the original), a CLI flag.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

DEFAULT_CONF = Path("conf/elastic-job-cloud-scheduler.properties")


class SettingsError(ValueError):
    """A setting has a value of the wrong type."""


@dataclass(frozen=True)
class Settings:
    hostname: str = "localhost"
    user: str = ""
    mesos_url: str = "zk://localhost:2181/mesos"
    mesos_role: str = ""
    zk_servers: str = "localhost:2181"
    zk_namespace: str = "elastic-job-cloud"
    zk_digest: str = ""
    http_port: int = 8899
    job_state_queue_size: int = 10000
    event_trace_rdb_driver: str = ""
    event_trace_rdb_url: str = ""
    event_trace_rdb_username: str = ""
    event_trace_rdb_password: str = ""
    event_trace_retention_days: int = 30
    event_trace_journal: str = ""  # rows waiting for the database; default: event-trace.journal here
    # on by default (the original: -1, off): a task whose end the master never reported (an update
    # lost in a failover, an agent gone silently) would otherwise look running forever
    reconcile_interval_minutes: int = 10
    time_zone: str = ""
    offer_hold_seconds: float = 1.0
    unreachable_grace_seconds: float = 300.0
    reconcile_no_answer_seconds: float = 60.0
    executor_command: str = "elasticjob-cloud-executor"
    executor_idle_timeout_seconds: float = 600.0
    zk_session_timeout_seconds: float = 10.0
    zk_operation_timeout_seconds: float = 5.0
    # Authentication (rest.credentials): "" = the command's default (scheduler on, standalone off).
    auth_enabled: str = ""
    auth_username: str = ""
    auth_password: str = field(default="", repr=False)
    auth_viewer_username: str = ""
    auth_viewer_password: str = field(default="", repr=False)
    auth_file: str = ""  # the original's auth.properties ("" = conf/auth.properties if present)
    # Logging (logsetup): stderr always; with log_file also a rotating file
    log_file: str = ""  # also log to this rotating file ("" = stderr only)
    log_format: str = "text"  # text, or json (one object per line)
    log_max_bytes: int = 10 * 1024 * 1024
    log_backup_count: int = 5

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


KEYS = tuple(f.name for f in fields(Settings))


def parse_properties(text: str) -> dict[str, str]:
    """``key=value`` lines (``key: value`` too); ``#`` and ``!`` start comments, as Java properties."""
    result: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        separator = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
        if separator < 0:
            result[line] = ""
        else:
            result[line[:separator].strip()] = line[separator + 1 :].strip()
    return result


def _convert(key: str, value: Any) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[key]
    if kind in ("int", int):
        try:
            return int(str(value).strip())
        except ValueError:
            raise SettingsError(f"setting {key} must be an integer, got {value!r}") from None
    if kind in ("float", float):
        try:
            return float(str(value).strip())
        except ValueError:
            raise SettingsError(f"setting {key} must be a number, got {value!r}") from None
    return str(value)


def load_settings(
    conf: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Defaults ← properties file ← environment ← ``overrides`` (flags; None values are ignored)."""
    values: dict[str, Any] = {}
    path = Path(conf) if conf else DEFAULT_CONF
    if path.is_file():
        values.update({k: v for k, v in parse_properties(path.read_text()).items() if k in KEYS})
    elif conf:
        raise SettingsError(f"configuration file {path} not found")
    env = os.environ if environ is None else environ
    values.update({key: env[key] for key in KEYS if key in env})
    values.update({k: v for k, v in (overrides or {}).items() if v is not None and k in KEYS})
    return Settings(**{key: _convert(key, value) for key, value in values.items()})


def machine_time_zone() -> str:
    """The IANA name of this machine's zone (``TZ``, ``/etc/timezone``, ``/etc/localtime``), else UTC.

    The original evaluated cron in the JVM's default zone; this is its equivalent.
    """
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    timezone_file = Path("/etc/timezone")
    if timezone_file.is_file():
        candidates.append(timezone_file.read_text().strip())
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    from zoneinfo import available_timezones

    known = available_timezones()
    return next((name for name in candidates if name in known), "UTC")


def effective_time_zone(settings: Settings) -> str:
    return settings.time_zone or machine_time_zone()
