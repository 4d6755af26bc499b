"""Interfaces of every store the use cases and loops depend on (implemented in ``registry``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from .models import AppConfig, JobConfig
from .triggers import TriggeredRun


@dataclass(frozen=True)
class FailoverEntry:
    job_name: str
    sharding_item: int
    original_task_id: str
    attempt: int = 1  # failovers of the shard in a row, this one included
    not_before: float = 0.0  # epoch seconds: not launched before (back-off of repeated failovers)
    # None: the shard's own entry ``{job}@-@{item}`` (the original's); else the child name of an
    # entry beside it, the lost task's ID (a run overlapping another, ``concurrencyPolicy`` ALLOW)
    record: str | None = None


@dataclass(frozen=True)
class RunningEntry:
    """One running record, ``/state/running/{job}/{record}`` = the task ID. ``record`` None is the
    shard's own name ``{job}@-@{item}`` (the original's); a task of a run overlapping another run of
    its job (``concurrencyPolicy`` ALLOW) is recorded under its task ID instead, a five-part name the
    original's ``MetaInfo`` reads as the same job and shard."""

    job_name: str
    sharding_item: int
    task_id: str
    record: str | None = None


class ConfigStore(Protocol):
    """Apps and jobs. Multi-node changes are atomic: either all nodes change or none. ``update_*``
    applies a pure ``change`` to the config as read and writes it only if nothing moved meanwhile."""

    def get_app(self, app_name: str) -> AppConfig | None: ...
    def list_apps(self) -> list[AppConfig]: ...
    def add_app(self, app: AppConfig) -> None: ...  # AlreadyExists
    def replace_app(self, app: AppConfig) -> None: ...  # NotFound
    def update_app(self, app_name: str, change: Callable[[AppConfig], AppConfig]) -> AppConfig: ...
    def remove_app(self, app_name: str) -> list[str]: ...  # cascades to its jobs; returns their names
    def get_job(self, job_name: str) -> JobConfig | None: ...
    def list_jobs(self) -> list[JobConfig]: ...
    def add_job(self, job: JobConfig, disabled: bool = False) -> None: ...  # AlreadyExists; NotFound: no app
    def replace_job(self, job: JobConfig) -> None: ...  # NotFound
    def update_job(self, job_name: str, change: Callable[[JobConfig], JobConfig]) -> JobConfig: ...
    def remove_job(self, job_name: str, cascade: bool = False) -> bool: ...  # with its state
    def remove_jobs(self, job_name: str, cascade: bool = False) -> list[str]: ...  # Conflict: depended on
    def add_app_and_job(self, app: AppConfig, job: JobConfig) -> None: ...
    def app_names(self) -> list[str]: ...
    def job_names(self) -> list[str]: ...
    def get_jobs_versioned(self, job_names: list[str]) -> dict[str, tuple[JobConfig | None, int] | None]: ...


class DisableStore(Protocol):
    def is_app_disabled(self, app_name: str) -> bool: ...
    def disable_app(self, app_name: str) -> None: ...
    def enable_app(self, app_name: str) -> None: ...
    def is_job_disabled(self, job_name: str) -> bool: ...
    def disable_job(self, job_name: str) -> None: ...
    def enable_job(self, job_name: str) -> None: ...
    def disabled_apps(self) -> set[str]: ...
    def disabled_jobs(self) -> set[str]: ...


class ReadyQueue(Protocol):
    """Queued runs per TRANSIENT job (a counter). The producer's fires add to it (``registry.fires``),
    the scheduler's ledger takes from it."""

    def trigger(self, job_name: str, misfire_of: Callable[[JobConfig], bool]) -> int: ...  # NotFound
    def counts(self) -> dict[str, int]: ...


class FailoverQueue(Protocol):
    def add(self, entry: FailoverEntry) -> bool: ...  # False when that shard is already queued
    def entries(self) -> list[FailoverEntry]: ...
    def streak(self, job_name: str, sharding_item: int) -> int: ...  # the last entry's attempt, 0: none
    def streaks(self) -> set[tuple[str, int]]: ...  # shards with a streak
    def end_streak(self, job_name: str, sharding_item: int) -> None: ...  # the shard ran to its end


class RunningStore(Protocol):
    def entries(self) -> list[RunningEntry]: ...


class FrameworkIdStore(Protocol):
    def get(self) -> str | None: ...
    def save(self, framework_id: str) -> None: ...


class TriggerStore(Protocol):
    """Runs triggered with their own parameters (issue #17, ``core.triggers``)."""

    def add(self, run: TriggeredRun, idempotency_key: str | None) -> tuple[str, bool]: ...  # (run ID, new)
    def entries(self) -> list[TriggeredRun]: ...


class Stores(Protocol):
    """Every store, as the use cases see them (``registry.Registry`` is the implementation)."""

    @property
    def config(self) -> ConfigStore: ...
    @property
    def disable(self) -> DisableStore: ...
    @property
    def ready(self) -> ReadyQueue: ...
    @property
    def failover(self) -> FailoverQueue: ...
    @property
    def running(self) -> RunningStore: ...
    @property
    def framework_id(self) -> FrameworkIdStore: ...
    @property
    def triggered(self) -> TriggerStore: ...
    @property
    def dependencies(self) -> DependencyStore: ...


class DependencyStore(Protocol):
    def edges_of(self, job_name: str) -> dict[str, Any]: ...  # the job's edge states (issue #17)


class Watches(Protocol):
    """The registry tree's watches, as the loops that follow changes see them (``registry.tree``)."""

    def watch(self, path: str, callback: Callable[[str | None], None]) -> Callable[[], None]: ...
    def watch_children(self, path: str, callback: Callable[[str | None], None]) -> Callable[[], None]: ...


@dataclass(frozen=True)
class ReadyTake:
    """One run of ``job_name`` taken off ``/state/ready``, guarded by the counter as read."""

    job_name: str
    count: int
    version: int


@dataclass(frozen=True)
class FailoverTake:
    """A failover entry taken off ``/state/failover`` (its shard is launched)."""

    job_name: str
    sharding_item: int
    record: str | None = None  # the entry's child name when not the shard's own (``FailoverEntry``)


@dataclass(frozen=True)
class TriggeredTake:
    """A run triggered with parameters taken off ``/state/triggered`` (launched or dropped)."""

    job_name: str
    run_id: str


Take = ReadyTake | FailoverTake | TriggeredTake


@dataclass(frozen=True)
class LaunchRecord:
    """One placed run, as its launch transaction writes it: the queue entry it takes (none for a
    daemon's desired shards), its job's ``/state/running/{job}`` node when not known to exist, and
    its tasks under it. Applied whole or not at all."""

    take: Take | None
    tasks: tuple[RunningEntry, ...]
    create_job_node: bool = False


@dataclass(frozen=True)
class LaunchResult:
    """How a launch transaction went: ``error`` None when it applied (else the run stays queued);
    ``job_node`` what is known of ``/state/running/{job}`` afterwards (None: unknown)."""

    error: Exception | None
    job_node: bool | None


class StateWrites(Protocol):
    """The engine's small writes of one event batch (finished tasks, adopted tasks, drops), each its
    own guarded transaction, committed together by ``flush`` (status updates are acknowledged only
    once their writes are in)."""

    def finish_task(self, job_name: str, sharding_item: int, record: str | None = None) -> None: ...
    def record_task(self, entry: RunningEntry, create_job_node: bool) -> None: ...  # an adopted task
    def record_outcome(  # how a task of a job others depend on ended (issue #17)
        self, task_id: str, item: int, succeeded: bool, now: float, create_folder: bool
    ) -> None: ...
    def forget_job(self, job_name: str) -> None: ...  # /state/running/{job} of a deregistered job
    def drop_ready(self, take: ReadyTake, runs: int) -> None: ...  # runs dropped, guarded by the read
    def drop_triggered(self, take: TriggeredTake) -> None: ...
    def flush(self) -> None: ...  # what ZooKeeper could not take now is kept for the next flush
    def __len__(self) -> int: ...  # writes not yet in


class SchedulerLedger(Protocol):
    """The scheduler's verbs on its ZooKeeper state (``registry.ledger``): the only writer of
    ``/state/running`` and of the engine's takes from the ready, failover and triggered queues.
    Every write goes through the registry's tree, so a leadership's writes are fenced."""

    def running_jobs(self) -> list[str]: ...  # names with a /state/running/{job} node
    def prepare_jobs(self, job_names: list[str]) -> dict[str, bool | None]: ...  # node exists now?
    def record_launches(self, records: list[LaunchRecord]) -> list[LaunchResult]: ...
    def take_ready_run(self, take: ReadyTake) -> bool: ...  # False: the counter moved since read
    def writes(self) -> StateWrites: ...
    @property
    def transactions(self) -> int: ...  # transactions committed so far (the engine's statistics)
    @property
    def ops(self) -> int: ...


class SchedulerControl(Protocol):
    """What the REST layer asks of this instance's scheduler side (implemented in ``mesos``).

    Every instance serves the REST API; operations that need the elected leader raise
    ``exceptions.NotLeader`` (with the leader's URL when one is known) on a standby.
    """

    def role(self) -> str: ...  # "leader" | "standby" | "stopped"
    def leader_url(self) -> str | None: ...  # http://host:port of the leader's REST API
    def health(self) -> dict[str, object]: ...  # role, leader, zookeeper and mesos connection state
    def reconcile(self, explicit: bool) -> None: ...  # NotLeader on a standby
    def sandbox(self, app_name: str) -> list[dict[str, str]]: ...  # [{"hostname", "path"}]
    def idle_task_ids(self) -> set[str]: ...  # DAEMON tasks between two runs (leader only; else empty)
    def task_output(
        self, task_id: str, file: str, length: int
    ) -> dict[str, object]: ...  # a task's stdout tail
    def unschedulable(self) -> dict[str, dict[str, object]]: ...  # jobs no agent can hold (leader only)


@dataclass(frozen=True)
class LaunchedTask:
    """A task the engine has just launched, as the event trace records it."""

    task_id: str
    hostname: str
    ip: str
    daemon: bool
    original_task_id: str = ""  # the task a FAILOVER task replaces


class TraceSink(Protocol):
    """Where the scheduler reports what it sees (implemented in ``trace``). Every call returns at once:
    the caller is the engine's or the producer's thread."""

    def launched(self, tasks: list[LaunchedTask], now: float) -> None: ...
    def status(self, status: Mapping[str, Any], now: float) -> None: ...  # a Mesos TaskStatus
    def fired(
        self,
        job_name: str,
        kind: str,
        instant: float,
        runs: int,
        missed: int,
        ready_count: int | None,
        now: float,
    ) -> None: ...


class NoTrace:
    """The trace sink when no event trace database is configured."""

    def launched(self, tasks: list[LaunchedTask], now: float) -> None:
        pass

    def status(self, status: Mapping[str, Any], now: float) -> None:
        pass

    def fired(
        self,
        job_name: str,
        kind: str,
        instant: float,
        runs: int,
        missed: int,
        ready_count: int | None,
        now: float,
    ) -> None:
        pass


@dataclass(frozen=True)
class AuditEntry:
    """One accepted write: who (user and role), when, from which address, which route, the body
    with secrets removed, and the answer's status."""

    time: datetime
    username: str
    role: str
    address: str
    method: str
    path: str
    status: int
    body: str


@dataclass(frozen=True)
class AuditQuery:
    """Equality filters on the entry's fields (``path`` matches a prefix), a time range, a page."""

    filters: Mapping[str, str]
    start: datetime | None
    end: datetime | None
    offset: int
    limit: int


class AuditLog(Protocol):
    def record(self, entry: AuditEntry) -> None: ...
    def search(self, query: AuditQuery) -> tuple[int, list[AuditEntry]]: ...  # newest first
