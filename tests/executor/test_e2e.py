"""End to end: a real pymesos scheduler driver, the local Mesos, the real executor subprocess.

The executor is started by the local agent from ``ExecutorInfo.command`` exactly as the scheduler
builds it (but with this venv's interpreter); the app is served by a loopback ``http.server`` or
by ``file://``. Every test stops its driver with ``failover=True``, stops the cluster and checks
that no process it caused is left.
"""

from __future__ import annotations

import base64
import itertools
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymesos
import pytest

from elasticjob_cloud.core.taskdata import JOB_FAILURE_PREFIX
from elasticjob_cloud.executor.child import group_members
from elasticjob_cloud.localmesos import LocalMesosCluster

pytestmark = pytest.mark.slow

EXECUTOR_COMMAND = f"{sys.executable} -m elasticjob_cloud.executor.main"


class Recorder(pymesos.Scheduler):
    """Scheduler callbacks, wrapped so they never raise; everything is recorded."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.offers: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.errors: list[str] = []

    def _guard(self, fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:  # pragma: no cover - would abort the driver
            self.errors.append(repr(exc))

    def resourceOffers(self, driver: Any, offers: Any) -> None:
        def keep() -> None:
            with self.lock:
                self.offers.extend(offers)

        self._guard(keep)

    def statusUpdate(self, driver: Any, update: Any) -> None:
        def keep() -> None:
            with self.lock:
                self.updates.append(dict(update))

        self._guard(keep)

    def error(self, driver: Any, message: Any) -> None:
        self.errors.append(str(message))

    def take_offers(self, kit: Any) -> list[dict[str, Any]]:
        """Every outstanding offer (one agent: launching on all of them uses all its resources)."""

        def pop() -> list[dict[str, Any]]:
            with self.lock:
                taken, self.offers = self.offers, []
                return taken

        return kit.wait_for(pop, 15, "an offer")

    def states(self, task_id: str) -> list[tuple[str, str | None]]:
        with self.lock:
            return [(u["state"], u.get("message")) for u in self.updates if u["task_id"]["value"] == task_id]

    def terminal(self, task_id: str) -> tuple[str, str | None] | None:
        for state, message in self.states(task_id):
            if state not in ("TASK_RUNNING", "TASK_STARTING", "TASK_STAGING"):
                return state, message
        return None


class Harness:
    def __init__(self, kit: Any, cluster: LocalMesosCluster):
        self.kit = kit
        self.cluster = cluster
        self.sched = Recorder()
        self.driver = pymesos.MesosSchedulerDriver(
            self.sched,
            {"user": "", "name": "executor-e2e", "failover_timeout": 60.0, "hostname": "localhost"},
            cluster.master_url,
            use_addict=False,
            timeout=10,
        )
        self.driver.start()
        self.agent_id = ""

    def executor_info(self, app: str, app_data: str) -> dict[str, Any]:
        return {
            "executor_id": {"value": f"{app}@-@{self.agent_id}"},
            "name": app,
            "command": {"value": EXECUTOR_COMMAND, "shell": True},
            "resources": [scalar("cpus", 0.1), scalar("mem", 64)],
            "data": app_data,
        }

    def launch(self, app: str, app_data: str, tasks: list[tuple[str, str]]) -> list[str]:
        offers = self.sched.take_offers(self.kit)
        offer = offers[0]
        self.agent_id = offer["agent_id"]["value"]
        infos = [
            {
                "name": task_id.rsplit("@-@", 1)[0],
                "task_id": {"value": task_id},
                "agent_id": offer["agent_id"],
                "resources": [scalar("cpus", 0.1), scalar("mem", 32)],
                "executor": self.executor_info(app, app_data),
                "data": data,
            }
            for task_id, data in tasks
        ]
        self.driver.launchTasks([o["id"] for o in offers], infos, {"refuse_seconds": 0.1})
        return [task_id for task_id, _ in tasks]

    def finish(self, task_id: str, timeout: float = 30.0) -> tuple[str, str | None]:
        return self.kit.wait_for(lambda: self.sched.terminal(task_id), timeout, f"end of {task_id}")

    def executor_pids(self) -> list[int]:
        return self.cluster.live_process_groups()

    def close(self) -> None:
        self.driver.stop(failover=True)
        self.driver.join()
        self.cluster.stop()
        assert self.cluster.live_process_groups() == []
        self.kit.wait_for(
            lambda: not processes_under(self.cluster.work_dir), 10, "no process left in a sandbox"
        )
        assert not self.sched.errors


def scalar(name: str, value: float) -> dict[str, Any]:
    return {"name": name, "type": "SCALAR", "scalar": {"value": value}}


@pytest.fixture
def harness(kit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    monkeypatch.setenv("ELASTICJOB_CLOUD_KILL_GRACE_SECONDS", "1")
    cluster = LocalMesosCluster(
        agents=1,
        resources="cpus:4;mem:4096;disk:10240;ports:[31000-32000]",
        work_dir=str(tmp_path / "mesos"),
        allocation_interval=0.2,
        executor_shutdown_grace_period=3.0,
    ).start()
    h = Harness(kit, cluster)
    try:
        yield h
    finally:
        h.close()


def all_dead(kit: Any, records: Path) -> bool:
    return not any(kit.pid_alive(pid) for _, pid, _ in kit.read_records(records))


def test_every_job_type_with_parameters_per_shard_over_http(
    harness: Harness, kit, app_server, records
) -> None:
    app = kit.app_data(app_server.url("example-app.tar.gz"), cache=True)
    params = {0: "A", 1: "B", 2: "C"}
    tasks = [kit.task_data("hello", item=i, total=3, params=params, agent="x") for i in range(3)]
    tasks.append(
        kit.task_data(
            "flow", job_type="DATAFLOW", job_class="example_jobs.dataflow:CountdownJob", streaming=True
        )
    )
    tasks.append(kit.task_data("script", job_type="SCRIPT", script="bin/demo.sh", params={0: 'x "y" $z'}))
    ids = harness.launch("demo", app, tasks)
    for task_id in ids:
        assert harness.finish(task_id) == ("TASK_FINISHED", None)
        assert [s for s, _ in harness.sched.states(task_id)] == ["TASK_RUNNING", "TASK_FINISHED"]
    recs = kit.read_records(records)
    assert sorted((p["shardingItem"], p["shardingParameter"]) for k, _, p in recs if k == "simple") == [
        (0, "A"),
        (1, "B"),
        (2, "C"),
    ]
    assert [p["batch"] for k, _, p in recs if k == "dataflow"] == [[5, 4], [3, 2], [1]]
    assert [p["shardingParameter"] for k, _, p in recs if k == "script"] == ['x "y" $z']
    more = harness.launch("demo", app, [kit.task_data("hello", item=0, total=3, params=params)])
    assert harness.finish(more[0]) == ("TASK_FINISHED", None)
    assert app_server.hits["/example-app.tar.gz"] == 1  # cached: one download for all six tasks
    assert all_dead(kit, records)


def test_cache_off_downloads_for_every_task_and_file_urls_work(
    harness: Harness, kit, app_server, packed_app, records
) -> None:
    app = kit.app_data(app_server.url("example-app.tar.gz"), cache=False)
    ids = harness.launch("nocache", app, [kit.task_data("a"), kit.task_data("b")])
    for task_id in ids:
        assert harness.finish(task_id)[0] == "TASK_FINISHED"
    assert app_server.hits["/example-app.tar.gz"] == 2
    zip_app = kit.app_data((packed_app.parent / "example-app.zip").as_uri(), cache=True, name="zipapp")
    [task_id] = harness.launch(
        "zipapp", zip_app, [kit.task_data("z", job_type="SCRIPT", script="bin/demo.sh")]
    )
    assert harness.finish(task_id)[0] == "TASK_FINISHED"
    assert sorted(p["jobName"] for _, _, p in kit.read_records(records)) == ["a", "b", "z"]


def test_failures_are_job_failures_and_the_executor_stays(harness: Harness, kit, packed_app, records) -> None:
    app = kit.app_data(packed_app.as_uri())
    [bad, script] = harness.launch(
        "demo",
        app,
        [
            kit.task_data("bad", params={0: "fail"}),
            kit.task_data("badscript", job_type="SCRIPT", script="bin/demo.sh", params={0: "fail"}),
        ],
    )
    state, message = harness.finish(bad)
    assert state == "TASK_FAILED" and message.startswith(JOB_FAILURE_PREFIX) and "told to fail" in message
    state, message = harness.finish(script)
    assert state == "TASK_FAILED" and message.startswith(JOB_FAILURE_PREFIX) and "exit code 3" in message
    executors = harness.executor_pids()
    [good] = harness.launch("demo", app, [kit.task_data("good")])
    assert harness.finish(good) == ("TASK_FINISHED", None)
    assert harness.executor_pids() == executors  # the same executor process served it


def test_kill_reaches_the_job_process(harness: Harness, kit, packed_app, records) -> None:
    app = kit.app_data(packed_app.as_uri())
    [task_id] = harness.launch("demo", app, [kit.task_data("sleepy", job_parameter="sleep=60")])
    [(_, pid, _)] = kit.wait_for(lambda: kit.read_records(records), 20, "the job to start")
    harness.driver.killTask({"value": task_id})
    assert harness.finish(task_id) == ("TASK_KILLED", None)
    assert not kit.pid_alive(pid)


def test_daemon_begin_complete_with_sampling_then_kill(harness: Harness, kit, packed_app, records) -> None:
    app = kit.app_data(packed_app.as_uri(), sampling=2)
    [task_id] = harness.launch("demo", app, [kit.task_data("d", daemon=True, cron="* * * * * ?", sampling=2)])
    kit.wait_for(lambda: len(kit.read_records(records)) >= 4, 12, "four daemon executions")
    messages = [m for s, m in harness.sched.states(task_id) if s == "TASK_RUNNING" and m]
    assert messages[:2] == ["BEGIN", "COMPLETE"]
    runs = kit.read_records(records)
    assert len({pid for _, pid, _ in runs}) == 1  # warm: one process for every fire
    harness.driver.killTask({"value": task_id})
    assert harness.finish(task_id) == ("TASK_KILLED", None)
    runs = kit.read_records(records)
    messages = [m for s, m in harness.sched.states(task_id) if s == "TASK_RUNNING" and m]
    assert messages.count("COMPLETE") == len(runs) // 2  # every 2nd execution is traced
    assert all_dead(kit, records)


@pytest.mark.parametrize("misfire", [True, False])
def test_daemon_misfire(harness: Harness, kit, packed_app, records, misfire: bool) -> None:
    app = kit.app_data(packed_app.as_uri())
    task = kit.task_data("mf", daemon=True, cron="* * * * * ?", misfire=misfire, job_parameter="sleep=1.4")
    [task_id] = harness.launch("demo", app, [task])
    kit.wait_for(lambda: len(kit.read_records(records)) >= 3, 15, "three daemon executions")
    harness.driver.killTask({"value": task_id})
    assert harness.finish(task_id)[0] == "TASK_KILLED"
    starts = [p["start"] for _, _, p in kit.read_records(records)][:3]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    if misfire:  # the fire that came during the execution runs right after it
        assert all(1.35 < gap < 1.8 for gap in gaps), gaps
    else:  # it is skipped: the next execution waits for the next whole second
        assert all(1.9 < gap < 2.3 for gap in gaps), gaps


def test_stop_message_ends_the_executor(harness: Harness, kit, packed_app, records) -> None:
    app = kit.app_data(packed_app.as_uri())
    [task_id] = harness.launch("demo", app, [kit.task_data("long", job_parameter="sleep=60")])
    kit.wait_for(lambda: kit.read_records(records), 20, "the job to start")
    assert harness.executor_pids()
    harness.driver.sendFrameworkMessage(
        {"value": f"demo@-@{harness.agent_id}"},
        {"value": harness.agent_id},
        base64.b64encode(b"STOP").decode(),
    )
    kit.wait_for(lambda: not harness.executor_pids(), 15, "the executor to exit")
    assert harness.finish(task_id)[0] == "TASK_KILLED"
    assert all_dead(kit, records)


def test_idle_executor_exits_by_itself(harness: Harness, kit, packed_app, records) -> None:
    app = kit.app_data(packed_app.as_uri(), idle=1.0)
    [task_id] = harness.launch("demo", app, [kit.task_data("once")])
    assert harness.finish(task_id)[0] == "TASK_FINISHED"
    started = time.monotonic()
    kit.wait_for(lambda: not harness.executor_pids(), 15, "the idle executor to exit")
    assert time.monotonic() - started > 0.5


def test_agent_shutdown_kills_the_jobs_before_the_executor_goes(
    harness: Harness, kit, packed_app, records
) -> None:
    """Job processes live in their own sessions, out of reach of the agent's kill of the executor
    group: the executor must end them itself when the agent sends SHUTDOWN."""
    app = kit.app_data(packed_app.as_uri())
    harness.launch(
        "demo",
        app,
        [
            kit.task_data("long", job_parameter="sleep=60"),
            kit.task_data("d", daemon=True, cron="* * * * * ?"),
        ],
    )
    kit.wait_for(
        lambda: {p["jobName"] for _, _, p in kit.read_records(records)} == {"long", "d"}, 20, "both jobs"
    )
    pids = {pid for _, pid, _ in kit.read_records(records)}
    harness.driver.stop(failover=True)
    harness.driver.join()
    harness.cluster.stop()  # SHUTDOWN to the executor, SIGKILL of its group 2 s later
    kit.wait_for(lambda: not any(kit.pid_alive(pid) for pid in pids), 10, "the jobs to be gone")


def test_sigterm_to_the_executor_ends_its_jobs_and_itself(harness: Harness, kit, packed_app, records) -> None:
    app = kit.app_data(packed_app.as_uri())
    [task_id] = harness.launch("demo", app, [kit.task_data("long", job_parameter="sleep=60")])
    [(_, pid, _)] = kit.wait_for(lambda: kit.read_records(records), 20, "the job to start")
    [group] = harness.executor_pids()
    executor = next(p for p in group_members(group) if b"-m\0elasticjob_cloud.executor.main" in cmdline(p))
    os.kill(executor, signal.SIGTERM)  # the executor itself (the agent's ``sh -c`` may be its parent)
    kit.wait_for(lambda: not harness.executor_pids(), 15, "the executor to exit")
    assert not kit.pid_alive(pid)
    assert harness.finish(task_id)[0] in ("TASK_KILLED", "TASK_FAILED")


def cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def processes_under(directory: Path) -> list[int]:
    """Live processes whose working directory is inside ``directory`` (executors, jobs)."""
    root = str(directory)
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
            with open(f"/proc/{entry}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if cwd.startswith(root) and state not in (b"Z", b"X"):
            found.append(int(entry))
    return found
