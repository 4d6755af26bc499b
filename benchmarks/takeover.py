"""Takeover benchmark: a leader SIGKILLed with N registered jobs; how long until its standby launches.

Set-up: a private ZooKeeper, the local Mesos in this process (simulated tasks: RUNNING, then
FINISHED after ``--task-seconds``; no executor processes), and two real ``elasticjob-cloud
scheduler`` subprocesses on the same ZooKeeper namespace: a leader and a standby. N TRANSIENT
1-shard jobs (misfire=true) are written straight into ZooKeeper, job i on cron ``{i % 60} * * * * ?``
(N/60 fires at every second). Once the leader launches steadily, it is SIGKILLed; its ZooKeeper
session expires ``--session-timeout`` seconds later and the standby is elected.

Measured (every ACCEPT is clocked inside the local master, so both leaders are seen alike):
- ``expiry_after_kill_s``: the kill → the old leader's election node gone (its session expired);
- ``takeover_s``: that expiry → the new leader's first ACCEPT (the goal is ≤ 1 s);
- ``breakdown_s``: from the expiry, when the new leader logged its election, its service started
  (watches, driver), its first fire was written to ``/state/ready`` (the producer loaded every job
  and its schedule), it subscribed to the master, it loaded the running state (catalog, running
  tasks) and the first ACCEPT;
- fires whose scheduled instant falls from the kill to the end of the window (``--after`` seconds
  after the first new launch): ``late`` (launched > 1 s after the instant) with p50/p99/max
  lateness, ``missing`` (never launched) and ``doubled`` (launched more than once). Under the misfire
  rule (true) a fire missed while no leader ran is launched once by the new leader, late.

    .venv/bin/python benchmarks/takeover.py [--jobs 10000] [--session-timeout 4] [--after 15] [--json FILE]

Exit status 1 when a fire was doubled or never launched.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import floor

from elasticjob_cloud.core import paths
from elasticjob_cloud.core.models import AppConfig, ExecutionType, JobConfig, JobType, TaskId
from elasticjob_cloud.core.schemas import app_to_wire, job_to_wire
from elasticjob_cloud.localmesos import LocalMesosCluster, offers
from elasticjob_cloud.registry.election import sorted_candidates
from elasticjob_cloud.registry.tree import Create
from elasticjob_cloud.registry.zkserver import ZooKeeperServer
from elasticjob_cloud.registry.zookeeper import KazooTree, ZooKeeperConnection

APP = "bench"
NAMESPACE = "takeover"


class Accepts:
    """Every ACCEPT the local master applies: (wall clock, task IDs)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[float, list[str]]] = []
        original = offers.accept

        def accept(master: Any, framework: Any, body: dict[str, Any]) -> None:
            original(master, framework, body)
            ids = [
                t["task_id"]["value"]
                for op in body.get("operations", [])
                if op.get("type") == "LAUNCH"
                for t in op.get("launch", {}).get("task_infos", [])
            ]
            with self.lock:
                self.calls.append((time.time(), ids))

        offers.accept = accept  # type: ignore[assignment]

    def since(self, instant: float) -> list[tuple[float, list[str]]]:
        with self.lock:
            return [c for c in self.calls if c[0] >= instant]


def register(tree: KazooTree, jobs: int) -> None:
    app = AppConfig(APP, "http://h/bench.tar.gz", "bin/start.sh", cpu_count=0.01, memory_mb=1.0)
    for parent in (paths.app(APP), paths.job("j")):
        tree.ensure(parent.rsplit("/", 1)[0])
    tree.commit([Create(paths.app(APP), json.dumps(app_to_wire(app)).encode())])
    batch: list[list[Any]] = []
    for i in range(jobs):
        job = JobConfig(
            f"j{i:05d}", APP, JobType.SIMPLE, ExecutionType.TRANSIENT, f"{i % 60} * * * * ?", 1, 0.01, 1.0,
            "a.B", misfire=True,
        )  # fmt: skip
        batch.append([Create(paths.job(job.job_name), json.dumps(job_to_wire(job)).encode())])
        if len(batch) == 500 or i == jobs - 1:
            assert not any(tree.commit_many(batch))
            batch = []


class Scheduler:
    def __init__(self, name: str, zk: str, master: str, directory: Path, args: argparse.Namespace):
        self.name, self.log_path = name, directory / f"{name}.log"
        command = [
            sys.executable, "-m", "elasticjob_cloud.cli", "--log-level", "INFO",
            "scheduler", "--log-format", "json", "--zk-servers", zk, "--zk-namespace", NAMESPACE, "--mesos-url", master,
            "--hostname", "127.0.0.1", "--http-port", "0", "--time-zone", "UTC", "--auth-enabled", "false",
            "--zk-session-timeout-seconds", str(args.session_timeout),
            "--job-state-queue-size", str(max(10_000, 2 * args.jobs)),
        ]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, start_new_session=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if "REST API on " not in line:
            raise RuntimeError(f"scheduler {name} did not start: {line!r}")
        self.url = line.split("REST API on ", 1)[1].split()[0].removesuffix("/api")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def health(self) -> dict[str, Any]:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=5) as answer:
                return dict(json.load(answer))
        except Exception as exc:  # 503 while not ready, or gone
            body = getattr(exc, "read", None)
            try:
                return dict(json.loads(body())) if body else {}
            except Exception:
                return {}

    def leading(self) -> bool:
        health = self.health()
        return health.get("role") == "leader" and bool((health.get("mesos") or {}).get("subscribed"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def log_times(self, since: float) -> tuple[dict[str, float], dict[str, str]]:
        """Wall-clock times of the first log lines (after ``since``) that mark a takeover step, and
        their messages (some say how long their step took)."""
        marks = {
            "elected": "elected leader",
            "service_started": "scheduler started",
            "subscribed": "subscribed to the Mesos master",
            "producer_loaded": "cron producer loaded",
            "running_state_loaded": "running tasks from ZooKeeper",
        }
        found: dict[str, float] = {}
        messages: dict[str, str] = {}
        missed = 0
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
                at = datetime.fromisoformat(entry["time"]).timestamp()
            except (ValueError, KeyError, TypeError):
                continue
            if at < since:
                continue
            message = str(entry.get("message", ""))
            missed += "while no producer ran" in message
            for key, text in marks.items():
                if key not in found and text in message:
                    found[key] = at
                    messages[key] = message
        messages["missed_fire_warnings"] = str(missed)
        return found, messages


def wait(condition: Any, timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}")


def percentiles(values: list[float]) -> dict[str, float | int]:
    return floor.percentiles(values, digits=3)


def fires(calls: list[tuple[float, list[str]]], jobs: int, start: float, end: float) -> dict[str, Any]:
    """Each launch mapped to its scheduled instant (the job's last cron second at or before it);
    every (job, instant) from ``start`` to ``end`` must be launched exactly once."""
    launches: Counter[tuple[str, int]] = Counter()
    lateness: dict[tuple[str, int], float] = {}
    failovers = 0
    for at, ids in calls:
        for task_id in ids:
            parsed = TaskId.parse(task_id)
            failovers += parsed.task_type.name == "FAILOVER"
            second = int(parsed.job_name[1:]) % 60
            instant = math.floor(at) - ((math.floor(at) - second) % 60)
            launches[(parsed.job_name, instant)] += 1
            lateness.setdefault((parsed.job_name, instant), at - instant)
    expected = [
        (f"j{i:05d}", s)
        for s in range(math.ceil(start), math.floor(end) + 1)
        for i in range(s % 60, jobs, 60)
    ]
    late = [lateness[f] for f in expected if launches[f] and lateness[f] > 1.0]
    return {
        "fires": len(expected),
        "launched_once": sum(1 for f in expected if launches[f] == 1),
        "missing": sum(1 for f in expected if not launches[f]),
        "doubled": sum(1 for f in expected if launches[f] > 1),
        "failover_launches": failovers,
        "late": percentiles(late),
        "on_time_lateness_s": percentiles(
            [lateness[f] for f in expected if launches[f] and lateness[f] <= 1.0]
        ),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    accepts = Accepts()
    directory = Path(tempfile.mkdtemp(prefix="bench-takeover-"))
    with ZooKeeperServer() as server:
        connection = ZooKeeperConnection(server.hosts, NAMESPACE).start()
        tree = KazooTree(connection)
        started = time.perf_counter()
        register(tree, args.jobs)
        registered_s = time.perf_counter() - started
        cluster = LocalMesosCluster(
            agents=args.agents,
            resources="cpus:1000;mem:1000000",
            allocation_interval=0.05,
            simulate_tasks=args.task_seconds,
        ).start()
        schedulers: list[Scheduler] = []
        ready_writes: list[float] = []
        try:
            schedulers.append(Scheduler("one", server.hosts, cluster.master_url, directory, args))
            leader = wait(lambda: schedulers[0].leading() and schedulers[0], 120, "the first leader")
            schedulers.append(Scheduler("two", server.hosts, cluster.master_url, directory, args))
            standby = schedulers[1]
            wait(lambda: standby.health().get("role") == "standby", 60, "the standby")
            # steady launching: every second's fires launched for a while
            wait(lambda: len(accepts.since(time.time() - 3)) > 0, 60, "launches")
            time.sleep(args.warm)
            candidates = sorted_candidates(tree.children(paths.ELECTION))
            leader_node = paths.ELECTION + "/" + candidates[0]
            unwatch = tree.watch_children(paths.READY, lambda *_: ready_writes.append(time.time()))
            time.sleep(math.ceil(time.time()) + 0.3 - time.time())
            killed_at = time.time()
            os.killpg(leader.proc.pid, signal.SIGKILL)
            leader.proc.wait()
            wait(lambda: not tree.exists(leader_node), args.session_timeout + 30, "the session expiry", 0.005)
            expired_at = time.time()
            # From the expiry: an ACCEPT the killed leader sent just before the kill may be applied
            # after it (seen at load 11); nobody else may launch before the standby is elected.
            first = wait(lambda: accepts.since(expired_at), 120, "the new leader's first launch", 0.005)[0][0]
            time.sleep(max(0.0, first + args.after - time.time()))
            end = time.time()
            unwatch()
            marks, messages = standby.log_times(killed_at)
            first_ready = min((t for t in ready_writes if t >= expired_at), default=None)
            if first_ready is not None:
                marks["first_fire_written"] = first_ready
            marks["first_launch"] = first
            result = {
                "jobs": args.jobs,
                "fires_per_second": round(args.jobs / 60, 1),
                "session_timeout_s": args.session_timeout,
                "registered_s": round(registered_s, 2),
                "expiry_after_kill_s": round(expired_at - killed_at, 3),
                "takeover_s": round(first - expired_at, 3),
                "breakdown_s": {
                    k: round(v - expired_at, 3) for k, v in sorted(marks.items(), key=lambda m: m[1])
                },
                "log": messages,
                "gap": fires(accepts.since(killed_at - 2), args.jobs, killed_at, end - 3),
                "logs": str(directory),
            }
        finally:
            for scheduler in schedulers:
                scheduler.stop()
            cluster.stop()
            connection.stop()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--session-timeout", type=float, default=4.0, help="schedulers' ZooKeeper session")
    parser.add_argument("--after", type=float, default=15.0, help="seconds observed after the first launch")
    parser.add_argument("--warm", type=float, default=5.0, help="seconds of steady launching before the kill")
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--task-seconds", type=float, default=0.5)
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    result = run(args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    gap = result["gap"]
    print(
        f"{args.jobs} jobs: takeover {result['takeover_s']:.2f} s after the session expiry "
        f"({result['expiry_after_kill_s']:.2f} s after the kill); fires {gap['fires']}, late "
        f"{gap['late'].get('count', 0)} (p50 {gap['late'].get('p50', '-')} s, max {gap['late'].get('max', '-')} s), "
        f"missing {gap['missing']}, doubled {gap['doubled']}"
    )
    return 1 if gap["missing"] or gap["doubled"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
