"""ZooKeeper node layout, relative to the namespace root: exactly the original's paths.

One addition the original does not have: ``/state/producer/{job}`` holds the last scheduled instant
the cron producer accounted for (ISO-8601, UTC), so a restart or a new leader can tell which fires
fell in the gap and never produces one instant twice (see README.rst, "The cron producer").
Another: ``/state/failover_backoff/{job}/{job}@-@{item}`` holds a shard's failover streak, so the
back-off of a shard that keeps failing over survives a leader change (the failover nodes themselves
keep the original's content, the task ID).
"""

from __future__ import annotations

from .models import DELIMITER

CONFIG_APP = "/config/app"
CONFIG_JOB = "/config/job"
READY = "/state/ready"
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


def app(app_name: str) -> str:
    return f"{CONFIG_APP}/{app_name}"


def job(job_name: str) -> str:
    return f"{CONFIG_JOB}/{job_name}"


def ready(job_name: str) -> str:
    return f"{READY}/{job_name}"


def running_job(job_name: str) -> str:
    return f"{RUNNING}/{job_name}"


def running_task(job_name: str, sharding_item: int) -> str:
    return f"{RUNNING}/{job_name}/{job_name}{DELIMITER}{sharding_item}"


def failover_job(job_name: str) -> str:
    return f"{FAILOVER}/{job_name}"


def failover_task(job_name: str, sharding_item: int) -> str:
    return f"{FAILOVER}/{job_name}/{job_name}{DELIMITER}{sharding_item}"


def failover_backoff_job(job_name: str) -> str:
    return f"{FAILOVER_BACKOFF}/{job_name}"


def failover_backoff(job_name: str, sharding_item: int) -> str:
    """How often in a row the shard was failed over, and when it may run again (JSON)."""
    return f"{FAILOVER_BACKOFF}/{job_name}/{job_name}{DELIMITER}{sharding_item}"


def disabled_app(app_name: str) -> str:
    return f"{DISABLE_APP}/{app_name}"


def disabled_job(job_name: str) -> str:
    return f"{DISABLE_JOB}/{job_name}"


def last_fire(job_name: str) -> str:
    return f"{PRODUCER}/{job_name}"


def triggered_job(job_name: str) -> str:
    """Runs of the job triggered with their own parameters (issue #17), one child per run ID."""
    return f"{TRIGGERED}/{job_name}"


def triggered_run(job_name: str, run_id: str) -> str:
    return f"{TRIGGERED}/{job_name}/{run_id}"


def trigger_keys_job(job_name: str) -> str:
    """The job's idempotency keys of the last 24 hours: ``{sha256(key)}`` → ``{"runId", "at"}``."""
    return f"{TRIGGER_KEYS}/{job_name}"


def trigger_key(job_name: str, digest: str) -> str:
    return f"{TRIGGER_KEYS}/{job_name}/{digest}"


def dependency_edges(job_name: str) -> str:
    """The state of each edge into a job with ``dependsOn`` (issue #17, ``registry.dependencies``)."""
    return f"{DEPENDENCIES}/{job_name}"


def run_outcomes_job(job_name: str) -> str:
    """How the shards of the current run of a job others depend on ended, one child per item."""
    return f"{RUN_OUTCOMES}/{job_name}"


def run_outcome(job_name: str, item: int) -> str:
    return f"{RUN_OUTCOMES}/{job_name}/{item}"


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
