"""End to end, TRANSIENT SCRIPT jobs: they run as Mesos command tasks, and what README promises for
a SCRIPT job holds there as under the framework's executor: ``scriptCommandLine`` runs without a
shell, a bare name in the app directory runs as ``./name``, the shard JSON is one last argument,
and the app is unpacked with the executor's limits and safety checks (issue #12).

Real ZooKeeper, the local Mesos and its command executor, the pymesos drivers (see ``schedkit``).
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from tests.scheduler.schedkit import FAR_FUTURE, pid_alive
from tests.support import wait_until

pytestmark = pytest.mark.slow

ARGV_SCRIPT = b"""#!/bin/sh
for arg in "$@"; do printf '%s\\n' "$arg"; done > "$ELASTICJOB_EXAMPLE_RECORD_DIR/argv.txt"
"""


def make_tar(path: Path, members: dict[str, bytes], mode: int = 0o755) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(content), mode
            tar.addfile(info, io.BytesIO(content))
    return path


def run_script_job(
    scheduler, name: str, app_url: str, command_line: str, job_parameter: str = ""
) -> tuple[str, str, str]:
    """Register an app and a one-shard TRANSIENT SCRIPT job, trigger it once; its (task, state, sandbox
    stderr) when it ended."""
    scheduler.app(name, appURL=app_url, bootstrapScript="unused")
    script = {"jobType": "SCRIPT", "jobClass": "", "scriptCommandLine": command_line, "cron": FAR_FUTURE}
    scheduler.job(name, appName=name, jobParameter=job_parameter, **script)
    scheduler.lifecycle.trigger(name)

    def ended() -> tuple[str, str] | None:
        with scheduler.events.lock:
            for task_id, state, _ in scheduler.events.updates:
                if task_id.startswith(f"{name}@-@") and state not in (
                    "TASK_STAGING",
                    "TASK_STARTING",
                    "TASK_RUNNING",
                ):
                    return task_id, state
        return None

    task_id, state = wait_until(ended, 30, message=f"the run of {name} to end")
    found = scheduler.work_dir.rglob("stderr")
    [stderr] = [p for p in found if p.parent.parent.parent.name == task_id and "latest" not in p.parts]
    return task_id, state, stderr.read_text()


def test_a_bare_name_runs_as_dot_slash_name_without_a_shell(scheduler, tmp_path, record_dir) -> None:
    app = make_tar(tmp_path / "argv.tar.gz", {"run.sh": ARGV_SCRIPT})
    task_id, state, stderr = run_script_job(scheduler, "argv", app.as_uri(), "run.sh 'a b' $HOME `id`;x")
    assert state == "TASK_FINISHED", stderr
    *args, context = (record_dir / "argv.txt").read_text().splitlines()
    assert args == ["a b", "$HOME", "`id`;x"]
    assert json.loads(context)["taskId"] == task_id and json.loads(context)["shardingItem"] == 0


def test_an_archive_member_with_an_absolute_path_is_refused_and_nothing_runs(scheduler, tmp_path) -> None:
    app = make_tar(tmp_path / "abs.tar.gz", {"run.sh": ARGV_SCRIPT, "/tmp/planted-by-app": b"x"})
    _, state, stderr = run_script_job(scheduler, "abs", app.as_uri(), "run.sh")
    assert state == "TASK_FAILED"
    assert "absolute path '/tmp/planted-by-app'" in stderr, stderr
    assert not list(scheduler.work_dir.rglob("planted-by-app"))


def test_the_executors_member_limit_applies(scheduler, tmp_path, monkeypatch) -> None:
    """The agents hand their environment to tasks: the limit is set for the whole cluster here."""
    members = {"run.sh": ARGV_SCRIPT, **{f"data/{i}": b"" for i in range(30)}}
    app = make_tar(tmp_path / "many.tar.gz", members)
    monkeypatch.setenv("ELASTICJOB_CLOUD_MAX_FILES", "20")
    _, state, stderr = run_script_job(scheduler, "many", app.as_uri(), "run.sh")
    assert state == "TASK_FAILED"
    assert "more than 20 members" in stderr, stderr


def test_a_killed_script_task_ends_its_job_process(scheduler, tmp_path) -> None:
    """The command executor's kill (SIGTERM to the task's process group) reaches the job too, which
    runs in its own session: the command task passes it on and waits for the job to end."""
    marker = tmp_path / "job.pid"
    app = make_tar(
        tmp_path / "sleepy.tar.gz", {"run.sh": f"#!/bin/sh\necho $$ > {marker}\nexec sleep 300\n".encode()}
    )
    scheduler.app("sleepy", appURL=app.as_uri(), bootstrapScript="unused")
    scheduler.job(
        "sleepy", appName="sleepy", jobType="SCRIPT", jobClass="", scriptCommandLine="run.sh", cron=FAR_FUTURE
    )
    scheduler.lifecycle.trigger("sleepy")
    pid = int(
        wait_until(lambda: marker.exists() and marker.read_text().strip(), 30, message="the job to start")
    )
    [task] = scheduler.running("sleepy")
    scheduler.lifecycle.disable_job("sleepy")
    wait_until(lambda: "TASK_KILLED" in scheduler.events.states(task.task_id), 20, message="TASK_KILLED")
    wait_until(lambda: not pid_alive(pid), 5, message="the job process to be gone")


def test_a_task_larger_than_one_environment_string_runs(scheduler, tmp_path, record_dir) -> None:
    """30,000 CJK characters of jobParameter: 240 KB of task data, over Linux's 128 KiB limit for
    one environment string; the shard JSON still reaches the script whole."""
    app = make_tar(tmp_path / "big.tar.gz", {"run.sh": ARGV_SCRIPT})
    _, state, stderr = run_script_job(scheduler, "big", app.as_uri(), "run.sh", job_parameter="中" * 30_000)
    assert state == "TASK_FINISHED", stderr
    [context] = (record_dir / "argv.txt").read_text(encoding="utf-8").splitlines()
    assert json.loads(context)["jobParameter"] == "中" * 30_000
