"""The engine's clock: what is due when (offers held too long, reconciliation asked again, launches
in doubt, unreachable grace periods, queued runs' deadlines, backed-off failovers, the next fire),
and whether a round's offers are kept for pending work or declined and offers suppressed.

Functions of the engine, on its one thread, kept apart to keep each file small.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import engine_failover, engine_prepare, engine_reconciling
from .offers import BUSY_REFUSE_SECONDS, IDLE_REFUSE_SECONDS

if TYPE_CHECKING:
    from .engine import Engine


def settle_offers(engine: Engine, now: float, unplaced: bool) -> None:
    if engine.driver is None:
        return
    upcoming = engine.next_fire()
    imminent = upcoming is not None and upcoming - now <= engine.config.offer_hold_seconds
    if unplaced or imminent:
        return  # held; each offer at most offer_hold_seconds (see timers)
    declined = engine.offers.clear()
    if declined:
        engine.driver.decline(declined, IDLE_REFUSE_SECONDS)
        engine.stats.offers_declined += len(declined)
    if not engine.suppressed and engine.driver.suppress():
        engine.suppressed = True


def next_deadline(engine: Engine) -> float | None:
    candidates = [
        engine.offers.next_expiry(),
        engine.next_periodic,
        engine.failover_wake,
        engine.reconciliation.next_deadline(),
        engine.queued.next_expiry(engine.catalog.jobs),
        engine.time_limits.check_at,
    ]
    if engine.awaiting is not None:
        candidates.append(engine.reconcile_deadline)
    if engine.in_doubt:
        candidates.append(min(engine.in_doubt.values()) + engine.config.launch_doubt_seconds)
    candidates.append(engine.fence.next_deadline())
    grace = [t.unreachable_since for t in engine.running if t.unreachable_since is not None]
    if grace:
        candidates.append(min(grace) + engine.config.unreachable_grace_seconds)
    if engine.suppressed and (upcoming := engine.next_fire()) is not None:
        candidates.append(upcoming - engine.config.offer_hold_seconds)
    if engine_prepare.due(engine):
        candidates.append(0.0)  # due now: the next step prepares a slice
    return min((c for c in candidates if c is not None), default=None)


def timers(engine: Engine, now: float) -> None:
    expired = engine.offers.expired(now)
    if expired and engine.driver is not None:
        engine.driver.decline(expired, BUSY_REFUSE_SECONDS)
        engine.stats.offers_declined += len(expired)
    if engine.awaiting is not None:
        engine_reconciling.finish(engine, now)
    if engine.next_periodic is not None and now >= engine.next_periodic:
        engine.next_periodic = now + engine.config.reconcile_interval_seconds
        engine.reconcile(explicit=True, now=now)
    engine_reconciling.ask_again(engine, now)
    engine_failover.expire_doubt(engine, now)
    engine.statuses.expire_grace(now)
    engine.time_limits.enforce(engine, now)
    expiry = engine.queued.next_expiry(engine.catalog.jobs)
    if expiry is not None and now >= expiry:
        engine.dirty = True  # a queued run reached its starting deadline: the round drops it
    if engine.failover_wake is not None and now >= engine.failover_wake:
        engine.failover_wake = None  # a backed-off failover is due: the round reads the queue again
        engine._failover_changed = engine.dirty = True
    upcoming = engine.next_fire()
    imminent = upcoming is not None and upcoming - now <= engine.config.offer_hold_seconds
    if engine.suppressed and imminent and engine.driver is not None and engine.driver.revive():
        engine.suppressed = False  # offers will be there by the fire
    if engine_prepare.due(engine):
        engine_prepare.prepare_slice(engine)
