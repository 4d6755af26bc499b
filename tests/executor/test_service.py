"""The executor's behaviour with a recording driver and real job processes (no Mesos here).

The pymesos seam is replaced by a recorder; everything below it is real: downloads from a local
HTTP server or file://, extraction, the bootstrapScript, the runner, process groups, the cron.
"""

from __future__ import annotations

import base64
import itertools
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from elasticjob_cloud.core.taskdata import JOB_FAILURE_PREFIX
from elasticjob_cloud.executor.archive import Limits
from elasticjob_cloud.executor.fetch import AppCache
from elasticjob_cloud.executor.service import ExecutorService


class Recorder:
    """A fake driver: records every status update and the stop."""

    def __init__(self) -> None:
        self.updates: list[tuple[str, str, str | None]] = []
        self.stopped = threading.Event()
        self._lock = threading.Lock()

    def update(self, task_id: str, state: str, message: str | None = None) -> None:
        with self._lock:
            self.updates.append((task_id, state, message))

    def stop(self) -> None:
        self.stopped.set()

    def states(self, task_id: str) -> list[str]:
        with self._lock:
            return [state for tid, state, _ in self.updates if tid == task_id]

    def messages(self, task_id: str) -> list[str | None]:
        with self._lock:
            return [message for tid, _, message in self.updates if tid == task_id]

    def terminal(self, task_id: str) -> tuple[str, str | None] | None:
        with self._lock:
            for tid, state, message in self.updates:
                if tid == task_id and state != "TASK_RUNNING":
                    return state, message
        return None


@pytest.fixture
def make_service(tmp_path: Path):
    services: list[ExecutorService] = []

    def build(
        kit: Any,
        url: str,
        *,
        cache: bool = True,
        sampling: int = 0,
        idle: float = 0.0,
        sandbox: str = "sandbox",
        kill_grace: float = 1.0,
    ):
        recorder = Recorder()
        service = ExecutorService(
            recorder,
            tmp_path / sandbox,
            cache=AppCache(tmp_path / "cache"),
            limits=Limits(download_timeout=10),
            kill_grace=kill_grace,
        )
        (tmp_path / sandbox).mkdir(exist_ok=True)
        service.registered({"data": kit.app_data(url, cache=cache, sampling=sampling, idle=idle)})
        services.append(service)
        return service, recorder

    yield build
    for service in services:
        service.begin_exit("test over")
        assert service.exited.wait(15)


def launch(service: ExecutorService, kit: Any, job: str, **kwargs: Any) -> str:
    task_id, data = kit.task_data(job, **kwargs)
    service.launch({"task_id": {"value": task_id}, "data": data})
    return task_id


def finish(recorder: Recorder, kit: Any, task_id: str, timeout: float = 20.0) -> tuple[str, str | None]:
    return kit.wait_for(lambda: recorder.terminal(task_id), timeout, f"end of {task_id}")


def test_simple_job_per_shard_parameters_over_http(
    make_service, kit, app_server, records: Path, tmp_path: Path
) -> None:
    service, recorder = make_service(kit, app_server.url("example-app.tar.gz"))
    params = {0: "A", 1: "B", 2: "C"}
    ids = [
        launch(service, kit, "hello", item=i, total=3, params=params, job_parameter="jp") for i in range(3)
    ]
    for task_id in ids:
        assert finish(recorder, kit, task_id) == ("TASK_FINISHED", None)
        assert recorder.states(task_id) == ["TASK_RUNNING", "TASK_FINISHED"]
    seen = sorted(
        (r[2]["shardingItem"], r[2]["shardingParameter"], r[2]["jobParameter"])
        for r in kit.read_records(records)
    )
    assert seen == [(0, "A", "jp"), (1, "B", "jp"), (2, "C", "jp")]
    assert {r[2]["taskId"] for r in kit.read_records(records)} == set(ids)
    assert app_server.hits["/example-app.tar.gz"] == 1  # cache on: one download for the executor
    stderr = (tmp_path / "sandbox" / "tasks" / ids[0] / "stderr").read_text()
    assert "hello from hello item 0 of 3" in stderr  # the job's log, kept in the sandbox


def test_dataflow_job_one_batch_or_streaming(make_service, kit, packed_app: Path, records: Path) -> None:
    service, recorder = make_service(kit, packed_app.as_uri())
    one = launch(service, kit, "flow", job_type="DATAFLOW", job_class="example_jobs.dataflow:CountdownJob")
    assert finish(recorder, kit, one)[0] == "TASK_FINISHED"
    stream = launch(
        service,
        kit,
        "stream",
        job_type="DATAFLOW",
        job_class="example_jobs.dataflow.CountdownJob",
        streaming=True,
    )
    assert finish(recorder, kit, stream)[0] == "TASK_FINISHED"
    batches = {}
    for _, _, payload in kit.read_records(records):
        batches.setdefault(payload["jobName"], []).append(payload["batch"])
    assert batches == {"flow": [[5, 4]], "stream": [[5, 4], [3, 2], [1]]}


def test_bean_from_application_context(make_service, kit, packed_app: Path, records: Path) -> None:
    service, recorder = make_service(kit, packed_app.as_uri())
    a = launch(
        service,
        kit,
        "bean",
        job_class="",
        bean_name="make_hello_job",
        application_context="example_jobs.simple",
    )
    b = launch(
        service, kit, "inst", job_class="", bean_name="hello_bean", application_context="example_jobs.simple"
    )
    assert finish(recorder, kit, a)[0] == finish(recorder, kit, b)[0] == "TASK_FINISHED"
    assert sorted(r[2]["jobName"] for r in kit.read_records(records)) == ["bean", "inst"]


def test_script_job_gets_the_json_as_one_argument(make_service, kit, app_server, records: Path) -> None:
    service, recorder = make_service(kit, app_server.url("example-app.zip"))
    tricky = 'a "quoted" $HOME `id` {x}'
    task_id = launch(service, kit, "script", job_type="SCRIPT", script="bin/demo.sh", params={0: tricky})
    assert finish(recorder, kit, task_id) == ("TASK_FINISHED", None)
    [(kind, _, payload)] = kit.read_records(records)
    assert kind == "script"
    assert payload["shardingParameter"] == tricky  # reached the script byte for byte, no shell
    assert payload["taskId"] == task_id


def test_failures_are_reported_as_job_failures_and_the_executor_goes_on(
    make_service, kit, packed_app: Path, records: Path
) -> None:
    service, recorder = make_service(kit, packed_app.as_uri())
    raised = launch(service, kit, "bad", params={0: "fail"})
    script = launch(service, kit, "badscript", job_type="SCRIPT", script="bin/demo.sh", params={0: "fail"})
    missing = launch(service, kit, "noclass", job_class="example_jobs.simple.Nope")
    garbage = "bm90IGpzb24="
    service.launch({"task_id": {"value": "junk@-@0@-@READY@-@a@-@u"}, "data": garbage})
    state, message = finish(recorder, kit, raised)
    assert state == "TASK_FAILED" and message.startswith(JOB_FAILURE_PREFIX) and "told to fail" in message
    state, message = finish(recorder, kit, script)
    assert state == "TASK_FAILED" and "exit code 3" in message and "told to fail" in message
    state, message = finish(recorder, kit, missing)
    assert state == "TASK_FAILED" and "cannot load job" in message and "Nope" in message
    state, message = finish(recorder, kit, "junk@-@0@-@READY@-@a@-@u")
    assert state == "TASK_FAILED" and "taskData" in message
    ok = launch(service, kit, "good")
    assert finish(recorder, kit, ok) == ("TASK_FINISHED", None)


def test_fetch_failure_fails_the_task_and_the_next_task_retries(
    make_service, kit, app_server, packed_app: Path
) -> None:
    late = packed_app.parent / "late-app.tar.gz"
    late.unlink(missing_ok=True)
    service, recorder = make_service(kit, app_server.url("late-app.tar.gz"))
    first = launch(service, kit, "early")
    state, message = finish(recorder, kit, first)
    assert state == "TASK_FAILED" and message.startswith(JOB_FAILURE_PREFIX)
    assert "cannot prepare app" in message and "404" in message
    shutil.copy(packed_app, late)
    try:
        second = launch(service, kit, "later")
        assert finish(recorder, kit, second) == ("TASK_FINISHED", None)
    finally:
        late.unlink()


def test_hostile_app_fails_the_task_without_writing_outside(make_service, kit, tmp_path: Path) -> None:
    import io
    import tarfile

    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../../escaped.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    service, recorder = make_service(kit, evil.as_uri())
    task_id = launch(service, kit, "evil")
    state, message = finish(recorder, kit, task_id)
    assert state == "TASK_FAILED" and "leaves the app directory" in message
    assert not list(tmp_path.rglob("escaped.txt"))


def test_cache_off_downloads_for_every_task_cache_on_once_per_agent(make_service, kit, app_server) -> None:
    url = app_server.url("example-app.tar.gz")
    off, rec_off = make_service(kit, url, cache=False, sandbox="off")
    ids = [launch(off, kit, "nocache", item=0) for _ in range(3)]
    for task_id in ids:
        assert finish(rec_off, kit, task_id)[0] == "TASK_FINISHED"
    assert app_server.hits["/example-app.tar.gz"] == 3
    on1, rec1 = make_service(kit, url, cache=True, sandbox="on1")
    on2, rec2 = make_service(kit, url, cache=True, sandbox="on2")  # a second executor on the agent
    for service, recorder in ((on1, rec1), (on2, rec2), (on1, rec1)):
        assert finish(recorder, kit, launch(service, kit, "cached"))[0] == "TASK_FINISHED"
    assert app_server.hits["/example-app.tar.gz"] == 4


def test_kill_sends_killed_only_after_the_process_is_gone(
    make_service, kit, packed_app: Path, records: Path
) -> None:
    service, recorder = make_service(kit, packed_app.as_uri())
    task_id = launch(service, kit, "sleepy", job_parameter="sleep=60")
    [(_, pid, _)] = kit.wait_for(lambda: kit.read_records(records), what="the job to start")
    assert kit.pid_alive(pid)
    service.kill(task_id)
    assert finish(recorder, kit, task_id) == ("TASK_KILLED", None)
    assert not kit.pid_alive(pid)


def test_kill_escalates_to_sigkill_for_a_job_ignoring_sigterm(make_service, kit, tmp_path: Path) -> None:
    script = tmp_path / "stubborn.sh"
    marker = tmp_path / "stubborn.pid"
    script.write_text(f"#!/bin/sh\ntrap '' TERM\necho $$ > {marker}\nsleep 60 &\nwait\nsleep 60\n")
    service, recorder = make_service(kit, script.as_uri(), kill_grace=0.5)  # a bare script as the app
    task_id = launch(service, kit, "stubborn", job_type="SCRIPT", script="stubborn.sh")
    pid = int(
        kit.wait_for(lambda: marker.exists() and marker.read_text().strip(), what="the script to start")
    )
    service.kill(task_id)
    assert finish(recorder, kit, task_id) == ("TASK_KILLED", None)
    assert not kit.pid_alive(pid)


def test_daemon_fires_on_cron_keeps_the_job_warm_and_is_killed(
    make_service, kit, packed_app: Path, records: Path
) -> None:
    service, recorder = make_service(kit, packed_app.as_uri())
    task_id = launch(service, kit, "daemon", daemon=True, cron="* * * * * ?", sampling=0)
    kit.wait_for(lambda: len(kit.read_records(records)) >= 3, 10, "three daemon executions")
    runs = kit.read_records(records)
    assert len({pid for _, pid, _ in runs}) == 1  # one warm process ...
    assert [p["executions"] for _, _, p in runs][:3] == [1, 2, 3]  # ... whose job object keeps state
    assert recorder.terminal(task_id) is None
    messages = recorder.messages(task_id)
    assert messages[0] is None and messages[1:5] == ["BEGIN", "COMPLETE", "BEGIN", "COMPLETE"]
    service.kill(task_id)
    assert finish(recorder, kit, task_id) == ("TASK_KILLED", None)
    assert not kit.pid_alive(runs[0][1])


def test_daemon_sampling_and_failures(make_service, kit, packed_app: Path, records: Path) -> None:
    service, recorder = make_service(kit, packed_app.as_uri())
    task_id = launch(service, kit, "sampled", daemon=True, cron="* * * * * ?", sampling=2, params={0: "fail"})
    kit.wait_for(lambda: len(kit.read_records(records)) >= 3, 10, "three daemon executions")
    service.kill(task_id)
    finish(recorder, kit, task_id)
    messages = [m for m in recorder.messages(task_id) if m]
    assert messages and all(m.startswith(JOB_FAILURE_PREFIX) or m == "BEGIN" for m in messages)
    assert messages.count("BEGIN") == len(kit.read_records(records)) // 2


@pytest.mark.parametrize("misfire", [True, False])
def test_daemon_misfire_setting(make_service, kit, packed_app: Path, records: Path, misfire: bool) -> None:
    """Every-second cron, 1.4 s executions: misfire runs back to back, no misfire waits for the next second."""
    service, recorder = make_service(kit, packed_app.as_uri())
    task_id = launch(
        service, kit, "mf", daemon=True, cron="* * * * * ?", misfire=misfire, job_parameter="sleep=1.4"
    )
    kit.wait_for(lambda: len(kit.read_records(records)) >= 3, 12, "three daemon executions")
    service.kill(task_id)
    finish(recorder, kit, task_id)
    starts = [float(p["start"]) for _, _, p in kit.read_records(records)][:3]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    if misfire:
        assert all(1.35 < gap < 1.8 for gap in gaps), gaps
    else:
        assert all(1.9 < gap < 2.3 for gap in gaps), gaps


def test_stop_message_kills_tasks_and_stops_the_driver(
    make_service, kit, packed_app: Path, records: Path
) -> None:
    service, recorder = make_service(kit, packed_app.as_uri())
    task_id = launch(service, kit, "long", job_parameter="sleep=60")
    [(_, pid, _)] = kit.wait_for(lambda: kit.read_records(records), what="the job to start")
    service.message(base64.b64encode(b"STOP").decode())
    assert service.exited.wait(10) and recorder.stopped.is_set()
    assert recorder.terminal(task_id) == ("TASK_KILLED", None)
    assert not kit.pid_alive(pid)
    refused = launch(service, kit, "late")
    assert recorder.terminal(refused)[0] == "TASK_LOST"  # never ran: failed over, not a job failure


def test_idle_executor_exits_after_its_last_task(make_service, kit, packed_app: Path) -> None:
    service, recorder = make_service(kit, packed_app.as_uri(), idle=0.6)
    task_id = launch(service, kit, "one", job_parameter="sleep=1")
    assert finish(recorder, kit, task_id)[0] == "TASK_FINISHED"
    assert kit.wait_for(lambda: service.exited.is_set(), 5, "idle exit")
    assert recorder.stopped.is_set() and "idle" in service.exit_reason
