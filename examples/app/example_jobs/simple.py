"""A SIMPLE job: greets its shard. Shard parameter ``fail`` raises; job parameter ``sleep=N`` sleeps."""

from __future__ import annotations

import logging
import time

from elasticjob_cloud.job import ShardingContext, SimpleJob
from example_jobs import record

log = logging.getLogger(__name__)


class HelloJob(SimpleJob):
    def __init__(self) -> None:
        self.executions = 0  # survives between fires of a DAEMON job: its process stays warm

    def execute(self, context: ShardingContext) -> None:
        self.executions += 1
        log.info(
            "hello from %s item %s of %s, parameter %r (execution %s)",
            context.job_name,
            context.sharding_item,
            context.sharding_total_count,
            context.sharding_parameter,
            self.executions,
        )
        record("simple", context, executions=self.executions, start=time.time())
        if context.job_parameter.startswith("sleep="):
            time.sleep(float(context.job_parameter.partition("=")[2]))
        if context.sharding_parameter == "fail":
            raise RuntimeError(f"item {context.sharding_item} was told to fail")


class NoopJob(SimpleJob):
    """Does nothing: what the start-up benchmark measures."""

    def execute(self, context: ShardingContext) -> None:
        return None


def make_hello_job() -> HelloJob:
    """A zero-argument factory, usable as ``beanName`` with ``applicationContext=example_jobs.simple``."""
    return HelloJob()


hello_bean = HelloJob()
