"""Upper bounds on what the API accepts, kept well below what ZooKeeper and a Mesos agent can hold.

ZooKeeper refuses a packet over ``jute.maxbuffer`` (1 MB by default) by closing the connection:
the session, its ephemeral nodes and the scheduler's leadership go with it. So three fences:

* a request body is at most ``MAX_BODY_BYTES`` (413);
* every stored text field has a length limit in characters (400 naming the field), chosen so the
  largest possible record, every character escaped as ``\\u00XX`` in the stored JSON, stays under
  ``MAX_WRITE_BYTES``;
* the registry refuses any write (one transaction: data and paths) over ``MAX_WRITE_BYTES`` before it
  reaches ZooKeeper, whoever asked for it.

The numeric bounds are what a job can plausibly need: a run of more shards than
``MAX_SHARDING_TOTAL_COUNT``, or a shard larger than the largest Mesos agent, would wait forever.
"""

from __future__ import annotations

KIB = 1024

MAX_BODY_BYTES = 256 * KIB
MAX_WRITE_BYTES = 768 * KIB

# Text fields: the most characters each may hold (JSON Schema's maxLength counts the same way).
TEXT_LIMITS: dict[str, int] = {
    "appURL": 4096,
    "bootstrapScript": 8192,
    "jobClass": 1024,
    "cron": 1024,
    "shardingItemParameters": 32768,
    "jobParameter": 32768,
    "description": 8192,
    "scriptCommandLine": 8192,
    "beanName": 1024,
    "applicationContext": 1024,
    "timeZone": 100,
    "dockerImageName": 1024,
    "job_exception_handler": 1024,
    "executor_service_handler": 1024,
}

MAX_SHARDING_TOTAL_COUNT = 10_000
MIN_CPU_COUNT = 0.001
MAX_CPU_COUNT = 1024.0  # cores of the largest single machines a Mesos agent runs on
MIN_MEMORY_MB = 1.0
MAX_MEMORY_MB = 16.0 * 1024 * 1024  # 16 TiB
MAX_EVENT_TRACE_SAMPLING_COUNT = 2**31 - 1  # the original's Java int
