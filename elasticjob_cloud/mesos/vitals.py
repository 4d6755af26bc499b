"""What a ``/metrics`` scrape reads from this scheduler instance (``metrics.Vitals``).

Read at scrape time only, from counters and state the engine keeps anyway: nothing on the engine's
path is added for these. The queue lengths are read from ZooKeeper (the ready and failover queues
are the cluster's, so every instance reports them; alert on their ``max``); the engine's counters
and gauges come from the leader's running engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..core.ports import FailoverEntry
from ..exceptions import ElasticJobError
from ..metrics import Vitals
from .node import SchedulerNode

ENGINE_STATS = ("offers_received", "offers_declined", "failovers", "launch_failures", "killed_by_scheduler")


class Queues(Protocol):
    def ready_counts(self) -> dict[str, int]: ...
    def failover_entries(self) -> list[FailoverEntry]: ...


class RegistryQueues:
    """The two queue reads over ``registry.Registry``-like stores."""

    def __init__(self, registry: object):
        self._registry = registry

    def ready_counts(self) -> dict[str, int]:
        snapshot = self._registry.ready.snapshot()  # type: ignore[attr-defined]
        return {name: count for name, (count, _) in snapshot.items()}

    def failover_entries(self) -> list[FailoverEntry]:
        entries: list[FailoverEntry] = self._registry.failover.entries()  # type: ignore[attr-defined]
        return entries


def vitals_source(
    node: SchedulerNode | None, queues: Queues, zookeeper_connected: Callable[[], bool]
) -> Callable[[], Vitals]:
    def read() -> Vitals:
        vitals = Vitals()
        connected = zookeeper_connected()
        vitals.gauges["zookeeper_connected"] = (
            "1 while the ZooKeeper session is connected",
            float(connected),
        )
        leader = node is not None and node.role() == "leader"
        vitals.gauges["leader"] = ("1 on the elected leader that runs the scheduler, else 0", float(leader))
        if connected:
            try:
                ready = queues.ready_counts()
                failover = queues.failover_entries()
            except ElasticJobError:
                pass  # ZooKeeper went away meanwhile: the queue gauges are left out of this scrape
            else:
                vitals.gauges["ready_runs"] = ("Runs waiting in the ready queue", float(sum(ready.values())))
                vitals.gauges["ready_jobs"] = ("Jobs with runs in the ready queue", float(len(ready)))
                vitals.gauges["failover_shards"] = (
                    "Shards waiting in the failover queue",
                    float(len(failover)),
                )
        service = node.service if node is not None else None
        if service is None:
            return vitals
        engine = service.engine
        stats = engine.stats
        vitals.generation = stats
        vitals.counters = {key: float(getattr(stats, key)) for key in ENGINE_STATS}
        vitals.task_states = {state: float(count) for state, count in list(stats.counters.items())}
        vitals.gauges.update(
            running_tasks=("Tasks the leader's engine tracks as running", float(len(engine.running))),
            offers_held=("Offers held for pending work or an imminent fire", float(len(engine.offers))),
            suppressed=("1 while the framework has suppressed offers", float(engine.suppressed)),
            mesos_subscribed=("1 while subscribed to a Mesos master", float(engine.subscribed)),
            unschedulable_jobs=(
                "Jobs with runs that no agent the master knows can hold (they wait for a larger agent)",
                float(len(engine.fit.marked())),
            ),
        )
        return vitals

    return read
