"""The tasks this framework has launched and not yet seen end: in memory, mirrored in ZooKeeper.

The original kept TRANSIENT running tasks only in memory, so a new leader did not know them and could
launch a shard twice (its issue #2170). Here every launched task is written to
``/state/running/{job}/{job}@-@{item}`` (value: the task ID; a task of a run overlapping another
run of its job, ``concurrencyPolicy`` ALLOW, under ``/state/running/{job}/{task ID}``) in the same
ZooKeeper transaction that takes its run off the ready or failover queue, before the LAUNCH is sent;
a new leader loads them all and reconciles them with the master before it launches anything.

Only the leader's engine thread touches this; the engine has the registry's ledger write what changes
here. Job nodes under ``/state/running`` are kept while the job exists (one write less per run).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..core.models import JobConfig, TaskId
from ..core.ports import RunningEntry


@dataclass
class RunningTask:
    task_id: str
    job_name: str
    item: int
    agent_id: str
    app_name: str
    executor_id: str | None  # None under the Mesos command executor
    config: JobConfig | None  # what it was launched with; None when adopted after a leader change
    state: str = "TASK_STAGING"
    idle: bool = True
    unreachable_since: float | None = None
    killing: bool = False
    record: str | None = None  # its running record's name when not the shard's own (``RunningEntry``)

    @property
    def shard(self) -> tuple[str, int]:
        return (self.job_name, self.item)


class RunningTasks:
    """Indexed by task, job and shard. A shard has one task recorded under its own name (the
    shard's "slot", ``_by_shard``); tasks of runs overlapping it (``concurrencyPolicy`` ALLOW) are
    recorded under their task IDs and indexed in ``_overlapping``."""

    def __init__(self) -> None:
        self._by_id: dict[str, RunningTask] = {}
        self._by_shard: dict[tuple[str, int], RunningTask] = {}
        self._overlapping: dict[tuple[str, int], dict[str, RunningTask]] = {}
        self._by_job: dict[str, set[str]] = {}
        self.job_nodes: set[str] = set()  # /state/running/{job} nodes known to exist

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[RunningTask]:
        return iter(list(self._by_id.values()))

    def load(
        self, entries: Iterable[RunningEntry], job_nodes: Iterable[str], app_of_job: dict[str, str]
    ) -> None:
        """What ZooKeeper says runs (a new leader's starting point)."""
        self.job_nodes = set(job_nodes)
        for entry in entries:
            try:
                parsed = TaskId.parse(entry.task_id)
            except ValueError:
                continue
            app = app_of_job.get(entry.job_name, "")
            self._index(
                RunningTask(
                    entry.task_id,
                    entry.job_name,
                    entry.sharding_item,
                    parsed.agent_id,
                    app,
                    None,
                    None,
                    state="TASK_UNKNOWN",
                    record=entry.record,
                )
            )

    def get(self, task_id: str) -> RunningTask | None:
        return self._by_id.get(task_id)

    def at(self, job_name: str, item: int) -> RunningTask | None:
        """A task running the shard (the one in its slot first), None when no task runs it."""
        task = self._by_shard.get((job_name, item))
        if task is None and (job_name, item) in self._overlapping:
            return next(iter(self._overlapping[(job_name, item)].values()))
        return task

    def record_for(self, job_name: str, item: int, task_id: str) -> str | None:
        """The record name a new task of the shard gets: the shard's own (None) while no task holds
        it, else its task ID (a run overlapping another, ``concurrencyPolicy`` ALLOW)."""
        return None if (job_name, item) not in self._by_shard else task_id

    def is_job_running(self, job_name: str) -> bool:
        return bool(self._by_job.get(job_name))

    def of_job(self, job_name: str) -> list[RunningTask]:
        return [self._by_id[t] for t in self._by_job.get(job_name, ())]

    def needs_job_node(self, job_name: str) -> bool:
        return job_name not in self.job_nodes

    def add(self, task: RunningTask) -> None:
        self._index(task)

    def remove(self, task_id: str) -> RunningTask | None:
        task = self._by_id.pop(task_id, None)
        if task is None:
            return None
        if self._by_shard.get(task.shard) is task:
            del self._by_shard[task.shard]
        others = self._overlapping.get(task.shard)
        if others is not None and others.pop(task_id, None) is not None and not others:
            del self._overlapping[task.shard]
        ids = self._by_job.get(task.job_name)
        if ids is not None:
            ids.discard(task_id)
            if not ids:
                del self._by_job[task.job_name]
        return task

    def _index(self, task: RunningTask) -> None:
        self._by_id[task.task_id] = task
        if task.record is None:
            self._by_shard[task.shard] = task
        else:
            self._overlapping.setdefault(task.shard, {})[task.task_id] = task
        self._by_job.setdefault(task.job_name, set()).add(task.task_id)
