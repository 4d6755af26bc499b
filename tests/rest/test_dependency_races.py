"""Concurrent writes to an upstream and its downstream over real HTTP and a real ZooKeeper (issue #17):
whatever interleaving two clients produce, no downstream is left depending on a job that is gone, and
ZooKeeper's dependency state (``/state/dependencies/{job}``) matches the stored ``dependsOn``."""

from __future__ import annotations

import json
import random
import threading

import requests

from elasticjob_cloud.core import paths
from tests.support import FOO_APP
from tests.support import dependent_job as job

ROUNDS = 60


def consistent(api) -> list[str]:
    """What is wrong with the stored graph (empty: nothing)."""
    jobs = requests.get(api.base_url + "/api/job/jobs", timeout=10).json()
    depends_on = {j["jobName"]: set(j.get("dependsOn") or []) for j in jobs}
    problems = [
        f"{name} depends on missing {sorted(ups - set(depends_on))}"
        for name, ups in depends_on.items()
        if ups - set(depends_on)
    ]
    tree = api.registry.tree
    for name in tree.children(paths.DEPENDENCIES):
        stored = tree.get(f"{paths.DEPENDENCIES}/{name}")
        edges = set(json.loads(stored[0]).get("edges", {})) if stored else set()
        if not depends_on.get(name):
            problems.append(f"dependency state of {name}, which has no upstreams")
        elif not edges <= depends_on[name]:
            problems.append(f"{name}: edges {sorted(edges)} beyond dependsOn {sorted(depends_on[name])}")
    return problems


def run_both(first, second):
    errors: list[BaseException] = []

    def guarded(work):
        try:
            work()
        except BaseException as error:  # surfaced below: a thread's failure must fail the test
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(work,)) for work in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors


def test_upstream_and_downstream_written_at_once_leave_no_dangling_edge(api):
    url = api.base_url
    assert requests.post(url + "/api/app", json=FOO_APP, timeout=10).status_code == 204
    answers: list[tuple[str, int, str]] = []

    def call(method, path, **kwargs):
        response = requests.request(method, url + path, timeout=10, **kwargs)
        sent = json.dumps(kwargs.get("json", {}).get("dependsOn", []))
        answers.append((f"{method} {path}", response.status_code, sent if response.ok else response.text))

    def upstream():
        pick = random.Random(1)
        for _ in range(ROUNDS):
            action = pick.choice(["register", "update", "deregister", "cascade"])
            if action == "register":
                call("POST", "/api/job/register", json=job("up"))
            elif action == "update":
                call(
                    "PUT",
                    "/api/job/update",
                    json={"jobName": "up", "cron": f"0 {pick.randrange(60)} 3 * * ?"},
                )
            else:
                call("DELETE", "/api/job/up/deregister" + ("?cascade=true" if action == "cascade" else ""))

    def downstream():
        pick = random.Random(2)
        for _ in range(ROUNDS):
            action = pick.choice(["register", "update", "drop", "deregister"])
            if action == "register":
                call("POST", "/api/job/register", json=job("down", "up", "other"))
            elif action == "update":
                call("PUT", "/api/job/update", json={"jobName": "down", "dependsOn": ["up"]})
            elif action == "drop":
                call(
                    "PUT", "/api/job/update", json={"jobName": "down", "dependsOn": [], "cron": "0 0 4 * * ?"}
                )
            else:
                call("DELETE", "/api/job/down/deregister")

    # The race starts from a whole edge up → down, so the first writes already meet it.
    for body in (job("other"), job("up"), job("down", "up", "other")):
        assert requests.post(url + "/api/job/register", json=body, timeout=10).status_code == 204
    run_both(upstream, downstream)
    assert not [a for a in answers if a[1] >= 500], [a for a in answers if a[1] >= 500][:5]
    assert {status for _, status, _ in answers} <= {204, 404, 409}, answers
    assert not consistent(api)
