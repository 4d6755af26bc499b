"""What is pending, and in what order it gets offers: one launch round's decisions, without I/O.

The engine reads the queues and the running state and hands them here; each pending run says which
queue entry its launch transaction takes (``core.ports.Take``), which the registry's ledger writes.

Pending work, in launch order (reference §3.3 to §3.5, improved):
1. FAILOVER shards (one by one) whose shard is not running;
2. READY runs of TRANSIENT jobs (all shards, or wait) when no task of the job runs: a run that fired
   while the previous one is still going waits for it, as the original (FORBID), unless the job's
   ``concurrencyPolicy`` is ALLOW: then it starts beside it, and a FAILOVER shard of such a job
   runs even while a later run's task of the same shard does;
3. DAEMON jobs: every shard of an enabled DAEMON job should run. With none running they start
   together as one READY run; a missing shard of a partly running daemon is relaunched alone
   (FAILOVER type). This is desired state, so a killed or lost daemon shard needs no queue entry.
Disabled jobs and apps, and jobs whose app is missing, launch nothing (their queue entries stay).

Placement order (``launch_order``, issue #17): higher ``priority`` first; within one priority,
FAILOVER shards, then queued runs by the instant they were queued (not by job name, the original's
issue #1925), then daemons.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .matching import RunRequest, ShardRequest
from .models import JobConfig, TaskId, TaskType
from .policies import ConcurrencyPolicy
from .ports import FailoverEntry, FailoverTake, ReadyTake, Take, TriggeredTake
from .taskinfo import uses_command_executor
from .triggers import TriggeredRun


class JobView(Protocol):
    """What planning needs of the job catalog (``mesos.catalog.Catalog``)."""

    jobs: dict[str, JobConfig]
    daemons: set[str]

    def launchable(self, job_name: str) -> JobConfig | None: ...


class RunningView(Protocol):
    """What planning needs of the running tasks (``mesos.running.RunningTasks``)."""

    def at(self, job_name: str, item: int) -> Any: ...  # the shard's task, None when it is free
    def is_job_running(self, job_name: str) -> bool: ...


@dataclass
class PendingRun:
    job: JobConfig
    items: tuple[int, ...]
    task_type: TaskType
    take: Take | None = None  # the queue entry this run takes in its transaction (none: a daemon's)
    original_task_ids: dict[int, str] = field(default_factory=dict)
    run_id: str | None = None  # a run triggered with parameters: the last part of its task IDs
    queued_at: float | None = None  # when a triggered run was queued (a counted run's is the engine's)

    def request(self, avoid: Mapping[int, str] | None = None) -> RunRequest:
        command = uses_command_executor(self.job)
        return RunRequest(
            tuple(
                ShardRequest(
                    job_name=self.job.job_name,
                    sharding_item=item,
                    task_type=self.task_type,
                    app_name=self.job.app_name,
                    cpus=self.job.cpu_count,
                    mem=self.job.memory_mb,
                    uses_executor=not command,
                    avoid_agent=(avoid or {}).get(item),
                )
                for item in self.items
            )
        )


@dataclass
class Pending:
    runs: list[PendingRun]
    orphans: list[str]  # ready nodes of jobs without a config: deleted (as the original)


def pending_runs(
    ready: Mapping[str, tuple[int, int]],
    failover: Sequence[FailoverEntry],
    catalog: JobView,
    running: RunningView,
    now: float = 0.0,
    triggered: Sequence[TriggeredRun] = (),
    queued_at: Callable[[str], float | None] = lambda name: None,
) -> Pending:
    runs: list[PendingRun] = []
    orphans: list[str] = []
    queued: set[tuple[str, int]] = set()
    failover_jobs = {entry.job_name for entry in failover}
    for entry in failover:
        if (entry.job_name, entry.sharding_item) in queued:
            continue  # an entry beside the shard's own (ALLOW): one launch of a shard per round
        queued.add((entry.job_name, entry.sharding_item))
        job = catalog.launchable(entry.job_name)
        if job is None or (running.at(entry.job_name, entry.sharding_item) is not None and not overlaps(job)):
            continue
        if entry.sharding_item >= job.sharding_total_count or entry.not_before > now:
            continue  # a shard failed over again and again waits for its back-off (see the engine)
        runs.append(
            PendingRun(
                job,
                (entry.sharding_item,),
                TaskType.FAILOVER,
                FailoverTake(entry.job_name, entry.sharding_item, entry.record),
                {entry.sharding_item: entry.original_task_id},
            )
        )
    chosen = _triggered_runs(runs, ready, triggered, catalog, running, failover_jobs, queued_at)
    for name, (count, version) in ready.items():
        job = catalog.jobs.get(name)
        if job is None:
            orphans.append(name)
            continue
        if count <= 0 or catalog.launchable(name) is None or _waits(job, running):
            continue
        if name in chosen:  # its run triggered with parameters was queued first
            continue
        if name in failover_jobs:  # its failover shards go first
            continue
        if job.is_daemon:  # an old-style daemon ready mark: the desired-state rule below covers it
            if name not in catalog.daemons:
                orphans.append(name)
            continue
        items = tuple(range(job.sharding_total_count))
        runs.append(PendingRun(job, items, TaskType.READY, ReadyTake(name, count, version)))
    for name in sorted(catalog.daemons):
        job = catalog.launchable(name)
        if job is None:
            continue
        missing = tuple(
            i
            for i in range(job.sharding_total_count)
            if running.at(name, i) is None and (name, i) not in queued
        )
        if not missing:
            continue
        if len(missing) == job.sharding_total_count:
            runs.append(PendingRun(job, missing, TaskType.READY))
        else:
            runs.extend(PendingRun(job, (item,), TaskType.FAILOVER) for item in missing)
    return Pending(runs, orphans)


def _triggered_runs(
    runs: list[PendingRun],
    ready: Mapping[str, tuple[int, int]],
    triggered: Sequence[TriggeredRun],
    catalog: JobView,
    running: RunningView,
    failover_jobs: set[str],
    queued_at: Callable[[str], float | None],
) -> set[str]:
    """The oldest run triggered with parameters of each job that may start (one run at a time, as
    any run), unless a counted run of the job was queued before it; the jobs chosen."""
    chosen: set[str] = set()
    for run in triggered:  # oldest first
        name = run.job_name
        job = catalog.launchable(name)
        if name in chosen or job is None or _waits(job, running) or name in failover_jobs:
            continue
        counted = queued_at(name) if ready.get(name, (0, 0))[0] > 0 else None
        if counted is not None and counted < run.queued_at:
            continue
        chosen.add(name)
        changes: dict[str, object] = {}
        if run.job_parameter is not None:
            changes["job_parameter"] = run.job_parameter
        if run.sharding_item_parameters is not None:
            changes["sharding_item_parameters"] = run.sharding_item_parameters
        runs.append(
            PendingRun(
                job.with_changes(**changes) if changes else job,
                tuple(range(job.sharding_total_count)),
                TaskType.READY,
                TriggeredTake(run.job_name, run.run_id),
                run_id=run.run_id,
                queued_at=run.queued_at,
            )
        )
    return chosen


def overlaps(job: JobConfig) -> bool:
    """``concurrencyPolicy`` ALLOW: a run of the job starts even while earlier runs still run."""
    return job.policy.concurrency_policy is ConcurrencyPolicy.ALLOW


def _waits(job: JobConfig, running: RunningView) -> bool:
    """A queued run of ``job`` waits for the job's running tasks (FORBID, REPLACE: killed first)."""
    return running.is_job_running(job.job_name) and not overlaps(job)


def launch_order(runs: list[PendingRun], queued_at: Callable[[str], float | None]) -> list[PendingRun]:
    """``runs`` in the order offers are given to them (see the module docstring)."""

    def key(run: PendingRun) -> tuple[int, int, float, str]:
        rank = 0 if run.task_type is TaskType.FAILOVER else 1 if run.take is not None else 2
        instant = (
            run.queued_at if run.queued_at is not None else queued_at(run.job.job_name) if rank == 1 else None
        )
        return (
            -run.job.policy.priority,
            rank,
            float("inf") if instant is None else instant,
            run.job.job_name,
        )

    return sorted(runs, key=key)


def avoid_agents(run: PendingRun) -> dict[int, str]:
    """A FAILOVER shard prefers another agent than the one it failed on."""
    avoid = {}
    for item, original in run.original_task_ids.items():
        try:
            avoid[item] = TaskId.parse(original).agent_id
        except ValueError:
            continue
    return avoid
