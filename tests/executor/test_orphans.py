"""Executors and jobs do not outlive their agent: ``kill -9`` of the standalone stack (the local
Mesos with it) ends every executor, command task and job process it started, promptly.

A real ``elasticjob-cloud standalone`` process, real executors and jobs: a DAEMON job (a framework
executor and its warm job process), a TRANSIENT job whose run sleeps (a job process), and a
TRANSIENT SCRIPT job whose script sleeps (a command task and its job process).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
import requests

from elasticjob_cloud.bootstrap import STANDALONE_RECOVERY_TIMEOUT
from tests.support import wait_until
from tests.test_cli_standalone import _processes_in, _start_standalone

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# README: executors exit within recovery_timeout + 2 s of losing their agent, command tasks within 1 s
# (jobs that ignore SIGTERM may take ELASTICJOB_CLOUD_KILL_GRACE_SECONDS more; these do not).
BOUND = STANDALONE_RECOVERY_TIMEOUT + 2.0


def _cmdlines(pids: list[int]) -> list[str]:
    found = []
    for pid in pids:
        try:
            found.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


def test_kill_9_of_standalone_ends_its_executors_and_jobs_within_the_bound(tmp_path: Path) -> None:
    process, _, work, url = _start_standalone(tmp_path)
    try:
        packed = subprocess.run(
            [str(EXAMPLES / "pack.sh"), str(tmp_path)], capture_output=True, text=True, check=True
        ).stdout.strip()
        sleeper = tmp_path / "sleeper.sh"
        sleeper.write_text("#!/bin/sh\nexec sleep 300\n")
        base = {"cpuCount": 0.1, "memoryMB": 32, "shardingTotalCount": 1, "cron": "0 0 0 1 1 ? 2099"}
        simple = {**base, "appName": "app", "jobType": "SIMPLE", "jobClass": "example_jobs.simple.HelloJob"}
        bodies = [
            (
                "/api/app",
                {
                    "appName": "app",
                    "appURL": f"file://{packed}",
                    "bootstrapScript": "bin/start.sh",
                    "cpuCount": 0.1,
                    "memoryMB": 64,
                },
            ),
            (
                "/api/app",
                {
                    "appName": "bare",
                    "appURL": sleeper.as_uri(),
                    "bootstrapScript": "sleeper.sh",
                    "cpuCount": 0.1,
                    "memoryMB": 64,
                },
            ),
            (
                "/api/job/register",
                {**simple, "jobName": "daemon", "jobExecutionType": "DAEMON", "cron": "0/2 * * * * ?"},
            ),
            (
                "/api/job/register",
                {**simple, "jobName": "long", "jobExecutionType": "TRANSIENT", "jobParameter": "sleep=300"},
            ),
            (
                "/api/job/register",
                {
                    **base,
                    "jobName": "script",
                    "appName": "bare",
                    "jobType": "SCRIPT",
                    "jobExecutionType": "TRANSIENT",
                    "scriptCommandLine": "sleeper.sh",
                },
            ),
        ]
        for path, body in bodies:
            assert requests.post(url + path, json=body, timeout=10).status_code == 204, body
        for name in ("long", "script"):
            assert requests.post(url + "/api/job/trigger", data=name, timeout=10).status_code == 204

        def everything_runs() -> bool:
            lines = _cmdlines(_processes_in(work))
            return sum("executor.runner" in line for line in lines) >= 2 and any(
                "sleep 300" in line for line in lines
            )

        wait_until(
            everything_runs, 60, 0.2, "the executors, the daemon's warm process and both sleeping jobs"
        )
        started = _processes_in(work)
    finally:
        process.kill()
        process.communicate(timeout=30)
    killed = time.monotonic()
    try:
        wait_until(lambda: not _processes_in(work), BOUND, 0.1, "every executor and job to exit")
    except AssertionError:
        left = _cmdlines(_processes_in(work))
        for pid in _processes_in(work):
            os.kill(pid, 9)
        raise AssertionError(
            f"left running {time.monotonic() - killed:.1f} s after kill -9: {left}"
        ) from None
    assert len(started) >= 5, _cmdlines(started)
