"""The hand-over between the executor and a job process: environment variables and a JSON file.

The job process is started through the app's ``bootstrapScript``, which is the user's shell
script, so everything it needs travels in the environment (it survives ``exec``) and in one JSON
file named by ``ELASTICJOB_CLOUD_CONTEXT_FILE``::

    {"shards": [ShardingContext JSON, ...],
     "job": {"jobName", "jobType", "jobClass", "beanName", "applicationContext",
             "streamingProcess", "jobProperties"}}

Standard library only: the runner imports this module in every job process.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elasticjob_cloud.job import ShardingContext

ENV_CONTEXT_FILE = "ELASTICJOB_CLOUD_CONTEXT_FILE"
ENV_RESULT_FILE = "ELASTICJOB_CLOUD_RESULT_FILE"
ENV_CONTROL_FDS = "ELASTICJOB_CLOUD_CONTROL_FDS"
ENV_APP_DIR = "ELASTICJOB_CLOUD_APP_DIR"
ENV_PYTHON = "ELASTICJOB_CLOUD_PYTHON"

EXIT_OK = 0
EXIT_JOB_FAILED = 1
EXIT_SETUP_FAILED = 2


@dataclass(frozen=True)
class JobSpec:
    """How to find and call the user's job (everything but the shard)."""

    job_name: str
    job_type: str
    job_class: str = ""
    bean_name: str = ""
    application_context: str = ""
    streaming_process: bool = False
    job_properties: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "jobName": self.job_name,
            "jobType": self.job_type,
            "jobClass": self.job_class,
            "beanName": self.bean_name,
            "applicationContext": self.application_context,
            "streamingProcess": self.streaming_process,
            "jobProperties": dict(self.job_properties),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobSpec:
        return cls(
            job_name=str(data.get("jobName", "")),
            job_type=str(data["jobType"]),
            job_class=str(data.get("jobClass", "")),
            bean_name=str(data.get("beanName", "")),
            application_context=str(data.get("applicationContext", "")),
            streaming_process=bool(data.get("streamingProcess", False)),
            job_properties=dict(data.get("jobProperties") or {}),
        )


def write_context(path: Path, spec: JobSpec, shards: Sequence[ShardingContext]) -> None:
    document = {"shards": [shard.to_dict() for shard in shards], "job": spec.to_dict()}
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def read_context(path: str | Path) -> tuple[JobSpec, list[ShardingContext]]:
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    return JobSpec.from_dict(document["job"]), [ShardingContext.from_dict(s) for s in document["shards"]]


def shard_environment(shards: Sequence[ShardingContext]) -> dict[str, str]:
    """``ELASTICJOB_*`` variables describing the shard(s), for scripts that prefer them to JSON."""
    first = shards[0]
    env = {
        "ELASTICJOB_JOB_NAME": first.job_name,
        "ELASTICJOB_TASK_ID": first.task_id,
        "ELASTICJOB_SHARDING_TOTAL_COUNT": str(first.sharding_total_count),
        "ELASTICJOB_JOB_PARAMETER": first.job_parameter,
        "ELASTICJOB_SHARDING_ITEMS": ",".join(str(s.sharding_item) for s in shards),
    }
    if len(shards) == 1:
        env["ELASTICJOB_SHARDING_ITEM"] = str(first.sharding_item)
        env["ELASTICJOB_SHARDING_PARAMETER"] = first.sharding_parameter
    return env


def write_result(message: str) -> None:
    """Leave a one-line reason for the executor's ``TASK_FAILED`` message (best effort)."""
    path = os.environ.get(ENV_RESULT_FILE)
    if path:
        try:
            Path(path).write_text(message[:2000], encoding="utf-8")
        except OSError:
            pass
