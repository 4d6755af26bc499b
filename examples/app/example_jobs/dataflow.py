"""A DATAFLOW job: each shard drains a small queue of numbers in batches of two.

Without ``streamingProcess`` one batch is handled per execution; with it the queue is drained in
one execution. The queue lives in the job object, so a DAEMON job keeps draining across fires.
"""

from __future__ import annotations

import logging

from elasticjob_cloud.job import DataflowJob, ShardingContext
from example_jobs import record

log = logging.getLogger(__name__)


class CountdownJob(DataflowJob[int]):
    def __init__(self) -> None:
        self.queue: list[int] | None = None

    def fetch_data(self, context: ShardingContext) -> list[int]:
        if self.queue is None:
            self.queue = list(range(5, 0, -1))
        batch, self.queue = self.queue[:2], self.queue[2:]
        return batch

    def process_data(self, context: ShardingContext, data: list[int]) -> None:
        log.info("item %s processes %s", context.sharding_item, data)
        record("dataflow", context, batch=data)
