"""Multi-node changes: planned from one read, committed as one guarded transaction, retried afresh.

A change planned from reads taken some time before its commit (which nodes exist, which version a
counter has, which jobs belong to an app) is wrong as soon as another writer moves one of them in
between: the engine consuming ``/state/ready/{job}``, the producer writing a fire, a second API
request. Committing such a plan anyway either fails on a guard (a delete of a node already gone
answered ``NotFound``: a deregistration refused with 404 for a job that exists) or, without guards,
half-applies. So every change here is a *plan*: a function that reads what it depends on, raises the
domain error the reads call for (the job really is missing, the name really is taken) and returns
the ops with guards taken from those reads. ``transact`` commits it; when a guard fails (another
writer won the race) the plan is made again from fresh reads, a bounded number of times, and then
the caller gets ``RegistryUnavailable`` (HTTP 503) with a message: never a 404 or 409 for a state
that held, never a change applied in part.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from ..exceptions import AlreadyExists, Conflict, NotFound, RegistryUnavailable
from .tree import Create, Delete, Op, Tree

log = logging.getLogger(__name__)
T = TypeVar("T")

ATTEMPTS = 12
BACKOFF_SECONDS = 0.004  # times the attempt number, jittered: two retrying writers drift apart

Plan = Callable[[], tuple[list[Op], T]]
"""Reads, decides and returns ``(ops, result)``; ``([], result)`` when nothing needs writing."""


def transact(tree: Tree, plan: Plan[T], what: str, attempts: int = ATTEMPTS) -> T:
    """Commit ``plan()``'s ops atomically, re-planning from fresh reads whenever a guard moved.

    Errors the plan raises (its reads show the request cannot apply) reach the caller unchanged;
    errors of the commit (``NotFound`` / ``AlreadyExists`` / ``Conflict``: a node moved since the
    read) are never passed on: they only mean "read again". ``RegistryUnavailable`` from ZooKeeper
    itself passes through.
    """
    failure: Exception | None = None
    for attempt in range(attempts):
        ops, result = plan()
        if not ops:
            return result
        try:
            tree.commit(ops)
        except (NotFound, AlreadyExists, Conflict) as exc:
            failure = exc
            log.debug("%s: attempt %d lost a race (%s); reading again", what, attempt + 1, exc)
            time.sleep(random.uniform(0, BACKOFF_SECONDS * (attempt + 1)))
            continue
        return result
    log.warning("%s gave up after %d attempts: %s", what, attempts, failure)
    raise RegistryUnavailable(
        f"{what} did not apply: what it depends on changed concurrently {attempts} times in a row "
        f"({failure}); nothing was changed, try again"
    )


def absent(path: str) -> list[Op]:
    """Ops that fail the transaction unless ``path`` is absent at commit time.

    ZooKeeper's check op only asserts that a node exists; creating and deleting the node within the
    same transaction asserts that it does not (``AlreadyExists`` otherwise), with nothing visible.
    """
    return [Create(path), Delete(path)]
