"""Helpers for the scheduler's end-to-end tests: the in-process harness, scheduler subprocesses,
and reading what the example jobs record.

Everything here is real: ZooKeeper (a chroot of the session's server), the local Mesos, the pymesos
drivers, the executor subprocess started by the local agent and the example app packed by
``examples/pack.sh``. The example jobs append ``kind pid context-json`` to
``$ELASTICJOB_EXAMPLE_RECORD_DIR/records.txt`` for every execution; the local agent hands its own
environment to executors, so the variable is set in this process before the cluster starts.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from elasticjob_cloud.bootstrap import LOCAL_EXECUTOR_COMMAND
from elasticjob_cloud.lifecycle import Lifecycle
from elasticjob_cloud.localmesos import LocalMesosCluster
from elasticjob_cloud.mesos.service import SchedulerService
from elasticjob_cloud.registry import connect
from elasticjob_cloud.settings import Settings
from tests.support import wait_until

APP = "demo"
HELLO = "example_jobs.simple.HelloJob"
AGENT_RESOURCES = "cpus:4;mem:4096;disk:10240;ports:[31000-32000]"
CLUSTER_OPTIONS: dict[str, Any] = dict(
    allocation_interval=0.2,
    executor_shutdown_grace_period=2.0,
    status_update_retry_interval=1.0,
)
FAR_FUTURE = "0 0 0 1 1 ? 2099"


# ---------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Record:
    """One execution of an example job, as it recorded itself."""

    kind: str
    pid: int
    job: str
    task_id: str
    item: int
    parameter: str
    job_parameter: str
    start: float
    executions: int

    @property
    def task_type(self) -> str:
        return self.task_id.split("@-@")[2]


def read_records(directory: Path) -> list[Record]:
    path = directory / "records.txt"
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        try:
            kind, pid, payload = line.split(" ", 2)
            data = json.loads(payload)
        except ValueError:
            continue  # a line still being written by a concurrent job process
        found.append(
            Record(
                kind,
                int(pid),
                data["jobName"],
                data["taskId"],
                int(data["shardingItem"]),
                data.get("shardingParameter", ""),
                data.get("jobParameter", ""),
                float(data.get("start", 0.0)),
                int(data.get("executions", 1)),
            )
        )
    return sorted(found, key=lambda r: r.start)


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(") ", 1)[1][0] not in "ZX"
    except (FileNotFoundError, IndexError):
        return False


def stays_true(predicate: Callable[[], Any], duration: float, interval: float = 0.05) -> bool:
    """True if ``predicate()`` holds for ``duration`` seconds (for 'nothing happens' checks)."""
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        if not predicate():
            return False
        time.sleep(interval)
    return True


def group_runs(records: Iterable[Record], shards: int) -> list[list[Record]]:
    """Split a TRANSIENT job's executions (sorted by start) into its runs, checking each run has
    every shard exactly once.

    Why this identifies "one fire" robustly: the scheduler launches all shards of a run together,
    and launches the next run of a job only when no task of the job runs any more (a fire that comes
    while a run is going waits in the ready counter). So every execution of run k starts before any
    execution of run k+1, and the executions sorted by start cut into consecutive blocks of
    ``shards``. A shard run twice for one fire (a duplicate launch, a failover of a task that in
    fact ran) breaks a block.
    """
    ordered = sorted(records, key=lambda r: r.start)
    assert len(ordered) % shards == 0, f"{len(ordered)} executions are not whole runs of {shards}: {ordered}"
    runs = [ordered[i : i + shards] for i in range(0, len(ordered), shards)]
    for run in runs:
        assert sorted(r.item for r in run) == list(range(shards)), f"a run is not every shard once: {run}"
    return runs


# ---------------------------------------------------------------------------------- events


class Events:
    """The engine's listener: every launch and status update, with the engine's clock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.launched: list[str] = []
        self.updates: list[tuple[str, str, str | None]] = []  # (task id, state, message)

    def __call__(self, kind: str, payload: Any, now: float) -> None:
        with self.lock:
            if kind == "launch":
                self.launched.extend(payload)
            elif kind == "status":
                self.updates.append(
                    (payload["task_id"]["value"], str(payload.get("state")), payload.get("message"))
                )

    def states(self, task_id: str) -> list[str]:
        with self.lock:
            return [state for t, state, _ in self.updates if t == task_id]

    def launched_of(self, job: str) -> list[str]:
        with self.lock:
            return [t for t in self.launched if t.split("@-@")[0] == job]


# ---------------------------------------------------------------------------------- harness


def app_body(packed_app: Path, name: str = APP, **fields: Any) -> dict[str, Any]:
    return {
        "appName": name,
        "appURL": packed_app.as_uri(),
        "bootstrapScript": "bin/start.sh",
        "cpuCount": 0.1,
        "memoryMB": 64.0,
        "appCacheEnable": True,
        **fields,
    }


def job_body(name: str, **fields: Any) -> dict[str, Any]:
    return {
        "jobName": name,
        "appName": APP,
        "jobClass": HELLO,
        "jobType": "SIMPLE",
        "jobExecutionType": "TRANSIENT",
        "cron": "0/2 * * * * ?",
        "shardingTotalCount": 1,
        "cpuCount": 0.1,
        "memoryMB": 32.0,
        "failover": True,
        "misfire": True,
        **fields,
    }


@dataclass
class Harness:
    """ZooKeeper registry + local Mesos + an in-process ``SchedulerService`` (the leader's parts)."""

    zk_hosts: str
    work_dir: Path
    packed_app: Path
    record_dir: Path
    agents: int = 2
    settings: dict[str, Any] = field(default_factory=dict)
    events: Events = field(default_factory=Events)
    cluster_options: dict[str, Any] = field(default_factory=dict)

    def start(self) -> Harness:
        self.registry, self.connection = connect(self.zk_hosts)
        self.lifecycle = Lifecycle(self.registry)
        options = {**CLUSTER_OPTIONS, **self.cluster_options}
        self.cluster = LocalMesosCluster(
            agents=self.agents, resources=AGENT_RESOURCES, work_dir=str(self.work_dir), **options
        ).start()
        self.start_scheduler()
        return self

    def start_scheduler(self) -> None:
        """A new ``SchedulerService`` (as a newly elected leader starts one) on the same registry."""
        options: dict[str, Any] = dict(
            zk_servers=self.zk_hosts,
            mesos_url=self.cluster.master_url,
            hostname="127.0.0.1",
            http_port=0,
            time_zone="UTC",
            executor_command=LOCAL_EXECUTOR_COMMAND,
            unreachable_grace_seconds=3.0,
        )
        options.update(self.settings)
        self.service: SchedulerService | None = SchedulerService(
            Settings(**options), self.registry, webui_port=0, listener=self.events, trace=self.new_trace()
        ).start()
        wait_until(lambda: self.engine.subscribed, 15, message="the scheduler to subscribe")

    def new_trace(self) -> Any:
        """The event trace sink of a new leader's parts (none here; see ``tests/trace``)."""
        return None

    @property
    def engine(self) -> Any:
        assert self.service is not None
        return self.service.engine

    def stop_scheduler(self) -> None:
        service, self.service = self.service, None
        if service is not None:
            service.stop()

    def close(self) -> None:
        tear_down(self.stop_scheduler, self.cluster, self.connection, self.records)

    # ---- registration
    def app(self, name: str = APP, **fields: Any) -> None:
        self.lifecycle.register_app(app_body(self.packed_app, name, **fields))

    def job(self, name: str, known: bool = True, **fields: Any) -> None:
        """Register a job; with ``known`` wait until the engine's catalog has it (see the report on
        ``test_trigger_right_after_registration_is_not_lost``: a trigger before that can be lost)."""
        self.lifecycle.register_job(job_body(name, **fields))
        if known:
            wait_until(lambda: name in self.engine.catalog.jobs, 5, message=f"the engine to know {name}")

    # ---- observation
    def records(self, job: str | None = None) -> list[Record]:
        return [r for r in read_records(self.record_dir) if job is None or r.job == job]

    def running(self, job: str | None = None) -> list[Any]:
        """The engine's running tasks (read from the test thread: retried if the dict moves)."""
        for _ in range(100):
            try:
                tasks = list(self.engine.running)
                break
            except RuntimeError:
                time.sleep(0.01)
        return [t for t in tasks if job is None or t.job_name == job]

    def zk_running(self, job: str | None = None) -> dict[tuple[str, int], str]:
        return {
            (e.job_name, e.sharding_item): e.task_id
            for e in self.registry.running.entries()
            if job is None or e.job_name == job
        }

    def settle(self, timeout: float = 15.0) -> None:
        """Every status update acknowledged (before injecting a fault)."""
        wait_until(lambda: not self.cluster.pending_status_updates(), timeout, message="acknowledged updates")

    def fires(self, job: str) -> int:
        assert self.service is not None
        return self.service.producer.producer.stats[job].fires

    def executors_of(self, app: str) -> list[dict[str, Any]]:
        state = requests.get(f"http://{self.cluster.master_url}/state", timeout=5).json()
        return [
            e
            for fw in state["frameworks"]
            for e in fw["executors"]
            if e["executor_id"].split("@-@")[0] == app
        ]


# ---------------------------------------------------------------------------------- processes


class SchedulerProcess:
    """``elasticjob-cloud scheduler`` as a real subprocess (so it can be SIGKILLed)."""

    def __init__(self, zk_hosts: str, master_url: str, directory: Path, name: str):
        self.zk_hosts = zk_hosts
        self.master_url = master_url
        self.directory = directory
        self.name = name
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, timeout: float = 30.0) -> SchedulerProcess:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = open(self.directory / f"{self.name}.log", "ab")  # noqa: SIM115 - kept for the process
        command = [
            sys.executable,
            "-m",
            "elasticjob_cloud.cli",
            "--log-level",
            os.environ.get("SCHEDULER_TEST_LOG_LEVEL", "INFO"),
            "scheduler",
            "--zk-servers",
            self.zk_hosts,
            "--mesos-url",
            self.master_url,
            "--hostname",
            "127.0.0.1",
            "--http-port",
            "0",
            "--executor-command",
            LOCAL_EXECUTOR_COMMAND,
            "--time-zone",
            "UTC",
            "--zk-session-timeout-seconds",
            "4",
            "--unreachable-grace-seconds",
            "5",
            "--auth-enabled",
            "false",  # these tests are about scheduling; tests/rest/test_auth.py covers logins
        ]
        self.proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=self.directory,
            start_new_session=True,
        )
        log.close()
        assert self.proc.stdout is not None
        line = b""
        deadline = time.monotonic() + timeout
        while b"\n" not in line:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.proc.poll() is not None:
                raise AssertionError(f"scheduler {self.name} did not start: {self.log_tail()}")
            ready, _, _ = select.select([self.proc.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    continue
                line += chunk
        text = line.decode()
        assert "REST API on " in text, text
        self.url = text.split("REST API on ", 1)[1].split()[0].removesuffix("/api")
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind (the ZooKeeper session lingers until its timeout)."""
        if self.alive():
            assert self.proc is not None
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()

    def health(self) -> dict[str, Any] | None:
        try:
            response = requests.get(f"{self.url}/health", timeout=3)
        except requests.RequestException:
            return None
        return response.json() if response.status_code == 200 else None

    def is_leader(self) -> bool:
        health = self.health()
        return bool(health and health.get("role") == "leader")

    def log_tail(self, chars: int = 3000) -> str:
        path = self.directory / f"{self.name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def master_frameworks(master_url: str) -> list[dict[str, Any]]:
    state = requests.get(f"http://{master_url}/state", timeout=5).json()
    return list(state["frameworks"])


def tasks_by_shard(records: Iterable[Record]) -> dict[tuple[str, int], list[Record]]:
    grouped: dict[tuple[str, int], list[Record]] = defaultdict(list)
    for r in records:
        grouped[(r.job, r.item)].append(r)
    return grouped


def tear_down(stop_schedulers: Callable[[], None], cluster: Any, connection: Any, records: Callable) -> None:
    """Schedulers, then the local Mesos, then ZooKeeper; then nothing may be left running."""
    try:
        stop_schedulers()
    finally:
        try:
            cluster.stop()
        finally:
            connection.stop()
    assert cluster.live_process_groups() == [], "processes of the local Mesos leaked"
    pids = {r.pid for r in records()}
    wait_until(lambda: not any(pid_alive(p) for p in pids), 10, message="every job process to be gone")
