"""ZooKeeper node layout, relative to the namespace root: exactly the original's paths.

One addition the original does not have: ``/state/producer/{job}`` holds the last scheduled instant
the cron producer accounted for (ISO-8601, UTC), so a restart or a new leader can tell which fires
fell in the gap and never produces one instant twice (see README.rst, "The cron producer").
Another: ``/state/failover_backoff/{job}/{job}@-@{item}`` holds a shard's failover streak, so the
back-off of a shard that keeps failing over survives a leader change (the failover nodes themselves
keep the original's content, the task ID).
And ``/state/ready_queued_at/{job}``: when the counted runs of a job with ``startingDeadlineSeconds``
were queued (``[[epoch seconds, runs], ...]``, oldest first; see ``core.queued_at``), so a new leader
drops a stale run at its real deadline; ``/state/ready/{job}`` keeps the original's bare count.
"""

from __future__ import annotations

from collections.abc import Callable

from .models import DELIMITER

CONFIG_APP = "/config/app"
CONFIG_JOB = "/config/job"
READY = "/state/ready"
READY_QUEUED_AT = "/state/ready_queued_at"
RUNNING = "/state/running"
FAILOVER = "/state/failover"
FAILOVER_BACKOFF = "/state/failover_backoff"
DISABLE_APP = "/state/disable/app"
DISABLE_JOB = "/state/disable/job"
PRODUCER = "/state/producer"
TRIGGERED = "/state/triggered"
TRIGGER_KEYS = "/state/trigger_keys"
DEPENDENCIES = "/state/dependencies"
RUN_OUTCOMES = "/state/run_outcomes"
FRAMEWORK_ID = "/ha/framework_id"
ELECTION = "/ha/election"


def _named(root: str) -> Callable[[str], str]:
    """``{root}/{name}``: the node of one app or job under ``root``."""
    return lambda name: f"{root}/{name}"


def _shard(root: str) -> Callable[[str, int], str]:
    """``{root}/{job}/{job}@-@{item}``: the node of one shard of a job (the original's naming)."""
    return lambda job_name, sharding_item: f"{root}/{job_name}/{job_name}{DELIMITER}{sharding_item}"


def _child(root: str) -> Callable[[str, str | int], str]:
    """``{root}/{job}/{child}``: a node under a job's own node."""
    return lambda job_name, child: f"{root}/{job_name}/{child}"


# The node layout as one table: every helper below is one of the three shapes above over one root.
app = _named(CONFIG_APP)
job = _named(CONFIG_JOB)
ready = _named(READY)
ready_queued_at = _named(READY_QUEUED_AT)  # instants of a deadline job's counted runs (core.queued_at)
running_job = _named(RUNNING)
running_task = _shard(RUNNING)
running_record = _child(RUNNING)  # a task of an overlapping run (concurrencyPolicy ALLOW): by task ID
failover_job = _named(FAILOVER)
failover_task = _shard(FAILOVER)
failover_record = _child(FAILOVER)  # a lost task of an overlapping run (concurrencyPolicy ALLOW): by task ID
failover_backoff_job = _named(FAILOVER_BACKOFF)
failover_backoff = _shard(FAILOVER_BACKOFF)  # the shard's streak and when it may run again (JSON)
disabled_app = _named(DISABLE_APP)
disabled_job = _named(DISABLE_JOB)
last_fire = _named(PRODUCER)
triggered_job = _named(TRIGGERED)  # runs triggered with their own parameters (issue #17), one per run ID
triggered_run = _child(TRIGGERED)
trigger_keys_job = _named(TRIGGER_KEYS)  # idempotency keys of the last 24 h: {sha256(key)} → {"runId", "at"}
trigger_key = _child(TRIGGER_KEYS)
dependency_edges = _named(DEPENDENCIES)  # the state of each edge into a job with dependsOn (issue #17)
run_outcomes_job = _named(RUN_OUTCOMES)  # how the shards of a depended-on job's current run ended
run_outcome = _child(RUN_OUTCOMES)  # one child per sharding item


def child_of(path: str, root: str) -> str | None:
    """The name of ``root``'s child that ``path`` is (or is under); None when outside ``root``."""
    prefix = root + "/"
    return path[len(prefix) :].split("/", 1)[0] or None if path.startswith(prefix) else None


def changed_job(path: str) -> str | None:
    """The job whose config or disable mark ``path`` is; None for any other path."""
    return child_of(path, CONFIG_JOB) or child_of(path, DISABLE_JOB)


def changed_app(path: str) -> str | None:
    """The app whose config or disable mark ``path`` is; None for any other path."""
    return child_of(path, CONFIG_APP) or child_of(path, DISABLE_APP)
