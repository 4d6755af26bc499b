"""The fence that makes a reconciliation answer about a launch in doubt final (issue #13).

A launch is in doubt when its ACCEPT went out on the launch channel and the answer was lost: the
master may have launched its tasks, or may not have received the ACCEPT yet. The master is then
asked about those tasks (explicit reconciliation), but on another connection, and Mesos orders
nothing across connections: the RECONCILE can be handled first, be answered "unknown" (TASK_LOST,
or TASK_GONE/TASK_UNKNOWN when partition-aware), and the ACCEPT still arrive after it and launch
the task while its shard already runs again.

So before the tasks are asked about, the offers their ACCEPT used are DECLINEd. The master handles
one call at a time and answers a DECLINE only once it applied it (``Master::decline``); from then
on an ACCEPT of those offers, wherever it still is, launches nothing: the master refuses it with
TASK_LOST/TASK_DROPPED, ``REASON_INVALID_OFFERS`` (``Master::accept``). A DECLINE of offers the
ACCEPT already used is ignored. Either way, once the DECLINE is answered, a reconciliation answer
saying the master does not know a task is final. A new SUBSCRIBE of the framework fences too (the
master discards its outstanding offers, ``Master::_failoverFramework``), which is why a new
leader's reconciliation needs nothing of this.

When the DECLINE cannot be sent (no connection to the master), the tasks stay unfenced: they are
not asked about, a reconciliation answer that the master does not know them (a periodic one, or
after a re-subscription) is not taken as final, and the DECLINE is tried again every
``RETRY_SECONDS``; their ``launch_doubt_seconds`` run from the fence on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .engine import Engine
    from .running import RunningTask

log = logging.getLogger(__name__)

RETRY_SECONDS = 2.0  # between DECLINEs of an unfenced launch's offers
RECONCILIATION = "REASON_RECONCILIATION"  # the reason of every reconciliation answer


class LaunchFence:
    """Tasks in doubt whose ACCEPT's offers the master has not yet confirmed declined."""

    def __init__(self) -> None:
        self.unfenced: dict[str, tuple[str, ...]] = {}  # task → the offers its ACCEPT used
        self.retry_at: float | None = None

    def final(self, task_id: str, reason: str | None) -> bool:
        """Whether an answer that the master does not know ``task_id`` says it never launched: a
        reconciliation answer only once the fence holds; the master's refusal of the ACCEPT
        itself (invalid offers, agent gone) always."""
        return task_id not in self.unfenced or reason != RECONCILIATION

    def forget(self, task_id: str) -> bool:
        return self.unfenced.pop(task_id, None) is not None

    def next_deadline(self) -> float | None:
        return self.retry_at if self.unfenced else None


def doubt(engine: Engine, tasks: Sequence[RunningTask], offer_ids: Sequence[str], now: float) -> None:
    """Fence the ACCEPT of ``tasks`` (it used ``offer_ids``), then ask the master about them."""
    for task in tasks:
        engine.fence.unfenced[task.task_id] = tuple(offer_ids)
    _decline_and_ask(engine, now)


def retry(engine: Engine, now: float) -> None:
    """Timers: DECLINE the offers of launches still unfenced, once ``RETRY_SECONDS`` passed."""
    fence = engine.fence
    for task_id in [t for t in fence.unfenced if engine.running.get(t) is None]:
        fence.unfenced.pop(task_id)  # answered or gone meanwhile
    if fence.unfenced and fence.retry_at is not None and now >= fence.retry_at:
        _decline_and_ask(engine, now)


def _decline_and_ask(engine: Engine, now: float) -> None:
    fence = engine.fence
    offers = sorted({o for ids in fence.unfenced.values() for o in ids})
    if engine.driver is None or not engine.driver.decline(offers, 0.0):
        fence.retry_at = now + RETRY_SECONDS
        log.warning(
            "the offers of %d launch(es) in doubt could not be declined: they are asked about once "
            "that succeeds (again in %.0f s)",
            len(fence.unfenced),
            RETRY_SECONDS,
        )
        return
    fenced = [task for t in fence.unfenced if (task := engine.running.get(t)) is not None]
    fence.unfenced.clear()
    fence.retry_at = None
    for task in fenced:
        engine.in_doubt[task.task_id] = now  # launch_doubt_seconds run from the fence
    if fenced:
        engine.ask([(t.task_id, t.agent_id) for t in fenced], now)
