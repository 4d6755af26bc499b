"""``kill -9`` of ``elasticjob-cloud standalone`` and a restart on the same work dir (issue #12): a job
whose task was running resumes within seconds, and no shard runs twice at once: the interrupted
shard runs again (failover) only after the restarted local Mesos ended what the killed one left.

The restarted local Mesos keeps no registry (standalone's choice, see README): it does not know the
old agents, so the old tasks are TASK_UNKNOWN, which the scheduler takes as lost at once (it used to
wait ``unreachable_grace_seconds``, 300 s, with the job's runs queued behind them)."""

from __future__ import annotations

import json
import signal
import stat
import time
from pathlib import Path

import pytest
import requests

from tests.support import wait_until
from tests.test_cli_standalone import _example_app, _processes_in, _start_standalone

pytestmark = pytest.mark.slow


def _executions(log: Path) -> list[tuple[str, float, str, int]]:
    """(start|end, time, task ID, shard) of every line the job's script wrote."""
    found = []
    if not log.exists():
        return found
    for line in log.read_text().splitlines():
        kind, when, context = line.split(" ", 2)
        data = json.loads(context)
        found.append((kind, float(when), data["taskId"], int(data["shardingItem"])))
    return found


def _overlapping(executions: list[tuple[str, float, str, int]]) -> list[tuple[int, str, str]]:
    """Pairs of tasks of one shard that ran at the same time."""
    spans: dict[str, list[float]] = {}
    shard: dict[str, int] = {}
    for kind, when, task, item in executions:
        spans.setdefault(task, [when, float("inf")])
        shard[task] = item
        if kind == "end":
            spans[task][1] = when
    clashes = []
    tasks = sorted(spans, key=lambda t: spans[t][0])
    for i, a in enumerate(tasks):
        for b in tasks[i + 1 :]:
            if shard[a] == shard[b] and spans[b][0] < spans[a][1]:
                clashes.append((shard[a], a, b))
    return clashes


def test_killed_standalone_resumes_a_running_job_within_seconds(tmp_path):
    log = tmp_path / "executions.log"
    script = tmp_path / "run.sh"
    script.write_text(
        f'#!/bin/sh\necho "start $(date +%s.%N) $1" >> {log}\nsleep 3\necho "end $(date +%s.%N) $1" >> {log}\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    app = _example_app(tmp_path)
    job = {
        "jobName": "busy",
        "appName": "app",
        "jobType": "SCRIPT",
        "scriptCommandLine": str(script),
        "jobExecutionType": "TRANSIENT",
        "cron": "0/5 * * * * ?",
        "shardingTotalCount": 2,
        "cpuCount": 0.1,
        "memoryMB": 16,
        "failover": True,
        "misfire": True,
    }
    process, _, _, url = _start_standalone(tmp_path)
    try:
        assert requests.post(url + "/api/app", json=app, timeout=10).status_code == 204
        assert requests.post(url + "/api/job/register", json=job, timeout=10).status_code == 204

        def mid_run():
            executions = _executions(log)
            ended = {task for kind, _, task, _ in executions if kind == "end"}
            return [task for kind, _, task, _ in executions if kind == "start" and task not in ended]

        wait_until(mid_run, 40, 0.05, "a run of the job in progress")
    finally:
        process.kill()  # SIGKILL: nothing is cleaned up
        process.communicate(timeout=30)
    killed_at = time.time()
    at_kill = [
        e[2]
        for e in _executions(log)
        if e[0] == "start" and not any(x[0] == "end" and x[2] == e[2] for x in _executions(log))
    ]
    assert at_kill
    orphans = _processes_in(tmp_path / "work")  # the interrupted run, for a moment without its agent

    process, _, _, url = _start_standalone(tmp_path)
    try:
        up_at = time.time()
        assert not [pid for pid in orphans if pid in _processes_in(tmp_path / "work")]

        def resumed():
            return [e for e in _executions(log) if e[0] == "start" and e[1] > killed_at]

        first = wait_until(resumed, 30, 0.1, "a run after the restart")
        assert first[0][1] - up_at < 15, f"resumed {first[0][1] - up_at:.1f}s after the restart"

        def still_listed():
            running = requests.get(url + "/api/job/tasks/running", timeout=10)
            assert running.status_code == 200
            return [t for t in at_kill if t in running.text]

        wait_until(lambda: not still_listed(), 10, 0.1, "the lost tasks to leave /api/job/tasks/running")
        wait_until(lambda: len({e[2] for e in resumed()}) >= 4, 30, 0.1, "two runs after the restart")

        def failed_over():
            return [int(e[2].split("@-@")[1]) for e in resumed() if "@-@FAILOVER@-@" in e[2]]

        def interrupted():
            """Tasks of the killed stack that never ended (killed with it). Its agents' IDs start with
            its master's ID (``{master}-S{n}``); one of its tasks may start just after the kill."""
            executions = _executions(log)

            def master(task: str) -> str:
                return task.split("@-@")[3].rsplit("-S", 1)[0]

            old = {master(e[2]) for e in executions if e[1] < killed_at}
            ended = {e[2] for e in executions if e[0] == "end"}
            return [e[2] for e in executions if master(e[2]) in old and e[2] not in ended]

        lost = {int(t.split("@-@")[1]) for t in interrupted()}
        wait_until(lambda: lost <= set(failed_over()), 30, 0.1, "the interrupted shards to run again")
        executions = _executions(log)
        starts = [e[2] for e in executions if e[0] == "start"]
        assert len(starts) == len(set(starts))  # no task started twice
        shards = failed_over()
        assert len(shards) == len(set(shards))  # each lost shard failed over once
        killed = interrupted()
        ran = [e for e in executions if e[2] not in killed]
        assert _overlapping(ran) == []
    finally:
        process.send_signal(signal.SIGINT)  # this time Ctrl-C: everything it started stops
        process.communicate(timeout=60)
