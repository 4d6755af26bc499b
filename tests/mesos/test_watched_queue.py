"""The triggered-runs queue is read each round only after its watch reported a change, or while the
last read found runs (issue #17: no ZooKeeper read per round for an empty queue)."""

from __future__ import annotations

import pytest

from elasticjob_cloud.core.models import TaskId
from elasticjob_cloud.mesos.watched import WatchedQueue
from tests.mesos.test_engine import APP, Harness, job_body


def test_unwatched_it_reads_every_time_watched_only_after_a_change_or_while_not_empty():
    reads: list[int] = []
    queue: list[str] = []

    def read() -> list[str]:
        reads.append(1)
        return list(queue)

    watched = WatchedQueue(read)
    assert watched.entries() == [] and watched.entries() == [] and len(reads) == 2  # not watched
    watched.watched = True
    assert watched.entries() == [] and len(reads) == 3  # the first read after the watch is set
    assert watched.entries() == [] and len(reads) == 3  # empty, nothing reported: no read
    queue.append("run")
    watched.changed("/state/triggered/job/run")
    assert watched.entries() == ["run"] and watched.entries() == ["run"] and len(reads) == 5
    queue.clear()  # taken by a launch: read once more, found empty, then quiet
    assert watched.entries() == [] and watched.entries() == [] and len(reads) == 6


def test_a_failed_read_is_read_again():
    calls = iter([RuntimeError("zookeeper away"), ["run"]])

    def read() -> list[str]:
        answer = next(calls)
        if isinstance(answer, Exception):
            raise answer
        return answer

    watched = WatchedQueue(read)
    watched.watched = True
    with pytest.raises(RuntimeError):
        watched.entries()
    assert watched.entries() == ["run"]


def test_the_engine_launches_a_triggered_run_once_its_change_is_reported():
    h = Harness()
    h.lifecycle.register_app(APP)
    h.lifecycle.register_job(job_body("job", shards=1))
    h.subscribe()
    h.engine.triggered_runs.watched = True
    h.engine.triggered_runs.entries()  # read empty once: quiet from now on until a change
    run = h.lifecycle.trigger_run({"jobName": "job", "jobParameter": "p"})
    h.engine.dirty = True
    h.give_offers("S0")
    assert h.driver.launched() == []  # no change reported: the queue was not read
    h.engine.triggered_runs.changed("/state/triggered/job")
    h.engine.dirty = True
    h.give_offers("S1")
    launched = [TaskId.parse(t["task_id"]["value"]) for t in h.driver.launched()]
    assert [(t.job_name, t.uuid) for t in launched] == [("job", run["runId"])]
