"""Runs triggered with their own parameters (issue #17), and the idempotency keys that named them.

``/state/triggered/{job}/{runId}`` holds one queued run (``core.triggers.TriggeredRun`` as JSON):
the launch transaction deletes it, as it decrements the ready counter of an ordinary run, so a run
is taken once whoever leads. ``/state/trigger_keys/{job}/{sha256(key)}`` holds ``{"runId", "at"}``
for ``IDEMPOTENCY_SECONDS``: a second trigger with the key answers that run. Both nodes are
additions the original does not have; it never reads them. Deregistering a job removes both
subtrees (``stores.ConfigStore``).
"""

from __future__ import annotations

import json
import logging

from ..core import paths
from ..core.triggers import IDEMPOTENCY_SECONDS, TriggeredRun, key_digest
from ..exceptions import AlreadyExists, Conflict, NotFound
from .shard_nodes import CountedChildren
from .tree import Create, Delete, Op, SetData, Tree

log = logging.getLogger(__name__)


class TriggeredRuns:
    def __init__(self, tree: Tree, queue_size: int = 10000):
        self.tree, self.queue_size = tree, queue_size
        tree.ensure(paths.TRIGGERED)

    def add(self, run: TriggeredRun, idempotency_key: str | None) -> tuple[str, bool]:
        """Queue ``run``; with a key already used within the window, nothing is queued. Returns the
        run ID answered and whether it is a new run."""
        job = run.job_name
        CountedChildren(self.tree, paths.triggered_job(job), self.queue_size).refuse_if_full(
            f"triggering '{job}'"
        )
        self.tree.ensure(paths.triggered_job(job))
        if idempotency_key is None:
            self.tree.commit([Create(paths.triggered_run(job, run.run_id), run.to_json())])
            return run.run_id, True
        self.tree.ensure(paths.trigger_keys_job(job))
        key_path = paths.trigger_key(job, key_digest(idempotency_key))
        record = json.dumps({"runId": run.run_id, "at": run.queued_at}).encode()
        while True:
            found = self.tree.get(key_path)
            ops: list[Op] = [Create(paths.triggered_run(job, run.run_id), run.to_json())]
            if found is None:
                ops.append(Create(key_path, record))
            else:
                earlier = _key_record(found[0])
                if earlier is not None and run.queued_at - earlier[1] < IDEMPOTENCY_SECONDS:
                    return earlier[0], False
                ops.append(SetData(key_path, record, found[1]))  # expired: the key names a new run
            try:
                self.tree.commit(ops)
            except (AlreadyExists, Conflict, NotFound):
                continue  # the same key used concurrently: read what won
            self._forget_old_keys(job, run.queued_at)
            return run.run_id, True

    def entries(self) -> list[TriggeredRun]:
        """Every queued triggered run, oldest first (one children read when there is none)."""
        runs: list[TriggeredRun] = []
        for job in self.tree.children(paths.TRIGGERED):
            ids = self.tree.children(paths.triggered_job(job))
            found = self.tree.get_many([paths.triggered_run(job, run_id) for run_id in ids])
            for run_id, entry in zip(ids, found, strict=True):
                if entry is None:
                    continue
                run = TriggeredRun.from_json(job, entry[0])
                if run is None or run.run_id != run_id:
                    log.warning(
                        "unreadable triggered run at %s: %r", paths.triggered_run(job, run_id), entry[0][:80]
                    )
                    continue
                runs.append(run)
        return sorted(runs, key=lambda r: (r.queued_at, r.job_name, r.run_id))

    def _forget_old_keys(self, job: str, now: float) -> None:
        """Keys of this job past the window are deleted (bounded by the job's own keys)."""
        names = self.tree.children(paths.trigger_keys_job(job))
        found = self.tree.get_many([f"{paths.trigger_keys_job(job)}/{n}" for n in names])
        stale: list[Op] = []
        for name, entry in zip(names, found, strict=True):
            record = _key_record(entry[0]) if entry is not None else None
            if entry is not None and (record is None or now - record[1] >= IDEMPOTENCY_SECONDS):
                stale.append(Delete(f"{paths.trigger_keys_job(job)}/{name}", entry[1]))
        for error in self.tree.commit_many([[op] for op in stale]) if stale else []:
            if error is not None and not isinstance(error, NotFound | Conflict):
                log.info("an old idempotency key of %s was not deleted: %s", job, error)


def _key_record(data: bytes) -> tuple[str, float] | None:
    try:
        wire = json.loads(data)
        return str(wire["runId"]), float(wire["at"])
    except (ValueError, KeyError, TypeError):
        return None
