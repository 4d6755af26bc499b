"""Register → update → trigger → deregister at once, 50 times, against a running scheduler.

The defect of issue #13: the deregistration planned its deletes from reads taken before its commit;
when the engine consumed ``/state/ready/{job}`` in between (a 1-second cron and a trigger make that
likely), the delete failed with NoNode, answered 404 and left the job registered (the next register
answered 409). Here the scheduler is a real subprocess (REST API, producer, engine, pymesos driver)
over a real ZooKeeper and the local Mesos with real executors; every answer must be 2xx and nothing
of the jobs may be left afterwards, in the API or in ZooKeeper.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from elasticjob_cloud.core import paths
from tests.scheduler.schedkit import SchedulerProcess, app_body, job_body
from tests.support import wait_until

pytestmark = pytest.mark.slow

ROUNDS = 50


def call(process: SchedulerProcess, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{process.url}{path}", timeout=10, allow_redirects=False, **kwargs)


def test_register_trigger_deregister_never_answers_404_nor_leaves_the_job(stack, packed_app):
    scheduler = stack.scheduler("s")
    wait_until(scheduler.is_leader, 30, message="the scheduler to lead")
    assert call(scheduler, "POST", "/api/app", json=app_body(packed_app)).status_code == 204
    answers: list[tuple[int, str, int, str]] = []
    for i in range(ROUNDS):
        name = f"race{i % 5}"  # names come back: a job left behind makes the next register a 409
        body = job_body(name, cron="* * * * * ?", shardingTotalCount=3)
        steps = [
            ("register", call(scheduler, "POST", "/api/job/register", json=body)),
            ("update", call(scheduler, "PUT", "/api/job/update", json={"jobName": name, "misfire": False})),
            ("trigger", call(scheduler, "POST", "/api/job/trigger", data=name)),
            ("deregister", call(scheduler, "DELETE", "/api/job/deregister", data=name)),
        ]
        answers += [(i, step, r.status_code, r.text) for step, r in steps]
    failed = [a for a in answers if not 200 <= a[2] < 300]
    assert failed == [], f"{len(failed)} of {len(answers)} requests failed: {failed[:5]}"
    assert call(scheduler, "GET", "/api/job/jobs").json() == []
    registry = stack.registry
    left = {
        root: [name for name in registry.tree.children(root) if name.startswith("race")]
        for root in (paths.CONFIG_JOB, paths.READY, paths.PRODUCER, paths.FAILOVER, paths.DISABLE_JOB)
    }
    assert left == {root: [] for root in left}

    # the tasks launched meanwhile are killed or finish; their running nodes go with them
    def running_left() -> dict[str, list[str]]:
        nodes = [n for n in registry.tree.children(paths.RUNNING) if n.startswith("race")]
        return {n: registry.tree.children(paths.running_job(n)) for n in nodes}

    try:
        wait_until(lambda: not running_left(), 30, message="the running state of the deregistered jobs to go")
    except AssertionError:
        raise AssertionError(
            f"left under {paths.RUNNING}: {running_left()}\n{scheduler.log_tail()}"
        ) from None
