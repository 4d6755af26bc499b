"""What app authors import: :class:`ShardingContext`, :class:`SimpleJob`, :class:`DataflowJob`.

This module is imported by every job process, so it imports nothing but the standard library:
a job's start-up time is part of every task's latency.

A job class needs no base class: the runner calls ``execute(context)`` on a SIMPLE job and
``fetch_data(context)`` / ``process_data(context, data)`` on a DATAFLOW job. The base classes
document the contract and let type checkers help.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class ShardingContext:
    """The one shard a task runs: which item of how many, with its parameters.

    The JSON form (:meth:`to_json`, given to SCRIPT jobs as their last argument) uses the
    original's field names: ``jobName, taskId, shardingTotalCount, jobParameter, shardingItem,
    shardingParameter``.
    """

    job_name: str
    task_id: str
    sharding_total_count: int
    job_parameter: str
    sharding_item: int
    sharding_parameter: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "jobName": self.job_name,
            "taskId": self.task_id,
            "shardingTotalCount": self.sharding_total_count,
            "jobParameter": self.job_parameter,
            "shardingItem": self.sharding_item,
            "shardingParameter": self.sharding_parameter,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ShardingContext:
        return cls(
            job_name=str(data["jobName"]),
            task_id=str(data.get("taskId", "")),
            sharding_total_count=int(data["shardingTotalCount"]),
            job_parameter=str(data.get("jobParameter", "")),
            sharding_item=int(data["shardingItem"]),
            sharding_parameter=str(data.get("shardingParameter", "")),
        )


class SimpleJob(ABC):
    """A job that does its work in one call per shard."""

    @abstractmethod
    def execute(self, context: ShardingContext) -> None:
        """Run the shard; raising an exception fails the task (``TASK_FAILED``)."""


class DataflowJob(ABC, Generic[T]):
    """A job that fetches a batch and processes it.

    Without ``streamingProcess`` one batch is fetched and processed per execution; with it the
    runner repeats until :meth:`fetch_data` returns an empty batch.
    """

    @abstractmethod
    def fetch_data(self, context: ShardingContext) -> Sequence[T] | None:
        """Return the next batch for this shard; empty or ``None`` means nothing to do."""

    @abstractmethod
    def process_data(self, context: ShardingContext, data: Sequence[T]) -> None:
        """Process one non-empty batch."""


__all__ = ["DataflowJob", "ShardingContext", "SimpleJob"]
