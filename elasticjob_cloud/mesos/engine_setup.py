"""What an engine is built from: the driver and stores it is given (interfaces typed here so pymesos
and kazoo stay out of reach), its configuration, and the statistics it keeps."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..core.ports import SchedulerLedger
from ..registry.dependencies import DependencyStore
from ..registry.stores import FailoverQueue, FrameworkIdStore, ReadyQueue, RunningStore
from ..registry.triggers import TriggeredRuns
from .catalog import CatalogStores


class Driver(Protocol):
    def launch_many(
        self, launches: Sequence[tuple[Sequence[str], list[dict[str, Any]]]], refuse_seconds: float
    ) -> Iterator[bool | None]:
        """One ACCEPT per (offer IDs, TaskInfos), in order as answered: taken (True), refused or never
        sent (False), or in doubt (None: sent, but its answer was lost)."""
        ...

    def decline(self, offer_ids: list[str], refuse_seconds: float) -> bool: ...
    def suppress(self) -> bool: ...
    def revive(self) -> bool: ...
    def kill(self, task_id: str, agent_id: str) -> bool: ...
    def reconcile(self, tasks: list[tuple[str, str]]) -> bool: ...
    def message(self, executor_id: str, agent_id: str, data: bytes) -> bool: ...
    def acknowledge(self, status: dict[str, Any]) -> bool: ...


class EngineStores(CatalogStores, Protocol):
    """The part of ``registry.Registry`` the engine uses (typed here so kazoo stays out of reach)."""

    ready: ReadyQueue
    failover: FailoverQueue
    running: RunningStore
    framework_id: FrameworkIdStore
    triggered: TriggeredRuns
    dependencies: DependencyStore

    @property
    def ledger(self) -> SchedulerLedger: ...


@dataclass(frozen=True)
class EngineConfig:
    executor_command: str = "elasticjob-cloud-executor"
    executor_idle_timeout_seconds: float = 600.0
    time_zone: str = "UTC"
    offer_hold_seconds: float = 1.0
    unreachable_grace_seconds: float = 300.0
    reconcile_interval_seconds: float = 0.0  # <= 0: no periodic reconciliation
    # a task whose explicit reconciliation is unanswered this long counts as unreachable since it
    # was first asked (then lost unreachable_grace_seconds after that first ask)
    reconcile_no_answer_seconds: float = 60.0
    # a launch whose ACCEPT answer was lost and that the master has not answered about this long
    # counts as never launched: its shards are queued again
    launch_doubt_seconds: float = 30.0


@dataclass
class EngineStats:
    launched: int = 0
    launch_failures: int = 0
    launches_in_doubt: int = 0  # tasks whose ACCEPT answer was lost (asked about, not repeated)
    finished: int = 0
    failed: int = 0
    failovers: int = 0
    killed_by_scheduler: int = 0
    offers_received: int = 0
    offers_declined: int = 0
    zk_transactions: int = 0
    zk_ops: int = 0
    counters: dict[str, int] = field(default_factory=lambda: defaultdict(int))


Listener = Callable[[str, Any, float], None]  # ("launch", [task ids], now), ("status", status dict, now)
