"""Example jobs for elasticjob-cloud: a SIMPLE job, a DATAFLOW job and a no-op for benchmarks.

With ``ELASTICJOB_EXAMPLE_RECORD_DIR`` set, every execution appends one line to
``records.txt`` there (``kind pid context-json``), which is how the tests observe them.
"""

from __future__ import annotations

import json
import os

from elasticjob_cloud.job import ShardingContext


def record(kind: str, context: ShardingContext, **extra: object) -> None:
    directory = os.environ.get("ELASTICJOB_EXAMPLE_RECORD_DIR")
    if not directory:
        return
    payload = json.dumps({**context.to_dict(), **extra}, separators=(",", ":"))
    with open(os.path.join(directory, "records.txt"), "a", encoding="utf-8") as handle:
        handle.write(f"{kind} {os.getpid()} {payload}\n")
