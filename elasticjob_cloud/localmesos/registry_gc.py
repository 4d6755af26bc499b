"""Registry garbage collection: unreachable and gone agents are forgotten after a while.

As ``Master::doRegistryGc`` (``master.cpp``, every ``registry_gc_interval``): an unreachable or gone
agent older than ``registry_max_agent_age`` (default two weeks), or beyond the newest
``registry_max_agent_count`` of its kind, leaves the registry and the master's memory, with its
unreachable tasks. Reconciliation of those tasks then answers TASK_UNKNOWN (case 6), which is
what a scheduler sees for an agent that was partitioned long ago (``PartitionTest.RegistryGcByAge``).
Callers hold the cluster lock.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .master import Master

logger = logging.getLogger(__name__)


def _prune(agents: dict[str, float], max_age: float, max_count: int, now: float) -> list[str]:
    """Oldest first: over the count, or older than the age."""
    ordered = sorted(agents.items(), key=lambda item: item[1])
    doomed = []
    for index, (agent_id, since) in enumerate(ordered):
        if len(ordered) - index > max_count or now - since > max_age:
            doomed.append(agent_id)
    return doomed


def collect(master: Master) -> list[str]:
    """One collection; returns the agents forgotten."""
    config = master.config
    now = time.time()
    unreachable = _prune(
        master.unreachable, config.registry_max_agent_age, config.registry_max_agent_count, now
    )
    gone = _prune(master.gone, config.registry_max_agent_age, config.registry_max_agent_count, now)
    for agent_id in unreachable:
        master.unreachable.pop(agent_id, None)
        master.agents.pop(agent_id, None)  # if it returns, it re-registers as an unknown agent
        for framework in master.frameworks.values():
            for task_id in [
                t for t, task in framework.unreachable_tasks.items() if task.agent_id == agent_id
            ]:
                framework.unreachable_tasks.pop(task_id)
    for agent_id in gone:
        master.gone.pop(agent_id, None)
    for agent_id in unreachable + gone:
        master.registry.remove(agent_id)
    if unreachable or gone:
        logger.info("registry: forgot %d unreachable and %d gone agents", len(unreachable), len(gone))
    return unreachable + gone
