"""A command task's job process dies with the command task (PR_SET_PDEATHSIG), even when the command
task is killed with SIGKILL and cannot pass the kill on; other job processes do not (by choice)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scheduler.schedkit import pid_alive
from tests.support import wait_until

STARTER = """
import sys, time
from pathlib import Path
from elasticjob_cloud.executor.child import ChildProcess
directory = Path(sys.argv[1])
child = ChildProcess(["sleep", "60"], cwd=directory, env={"PATH": "/bin:/usr/bin"},
                     stdout=directory / "out", stderr=directory / "err", die_with_parent=sys.argv[2] == "1")
print(child.pid, flush=True)
child.wait()
"""


@pytest.mark.parametrize("die_with_parent", [True, False])
def test_a_job_started_to_die_with_its_parent_does_when_the_parent_is_killed(tmp_path: Path, die_with_parent):
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER, str(tmp_path), "1" if die_with_parent else "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    job = int(starter.stdout.readline())  # type: ignore[union-attr]
    try:
        assert pid_alive(job)
        starter.kill()
        starter.wait(10)
        if die_with_parent:
            wait_until(lambda: not pid_alive(job), 5, message="the job to die with its starter")
        else:  # it runs on: the positive event bounding "it did not die" is the starter's death above
            assert pid_alive(job)
    finally:
        if pid_alive(job):
            os.kill(job, signal.SIGKILL)
