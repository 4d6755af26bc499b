"""A fault campaign, the Jepsen way: real processes, a seeded nemesis, a checker over what happened.

Processes: a private ZooKeeper server (its own JVM: paused with SIGSTOP, restarted on its data
directory), two ``elasticjob-cloud scheduler`` subprocesses (leader and standby: REST API, producer,
engine, pymesos driver), the local Mesos with three agents in this process and the real executor and
command-executor processes it starts. The jobs are SCRIPT jobs running ``record.sh``, which appends
a start and an end line per execution to one log (see ``checker``).

The nemesis picks, with ``random.Random(seed)``, a fault and a moment: SIGKILL of the leader (a
new scheduler process is started in its place), SIGSTOP of the leader past the ZooKeeper session
timeout then SIGCONT, ZooKeeper paused 15 s, ZooKeeper restarted, an agent removed (a fresh one
added), an executor killed, the Mesos master restarted with one agent that never comes back (its
machine died: the master recovers it from its persistent registry and answers nothing about its
tasks until ``agent_reregister_timeout``; issue #18). Meanwhile a writer issues API writes (register, update, deregister,
disable, enable, trigger) on jobs of their own to either scheduler and records every answer.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from elasticjob_cloud.core import paths
from elasticjob_cloud.localmesos import LocalMesosCluster
from elasticjob_cloud.registry import connect
from elasticjob_cloud.registry.zkserver import ZooKeeperServer
from tests.faults import checker, verdict
from tests.faults.jobs import (
    AGENT_REREGISTER,
    API_JOBS,
    CHECKED,
    FAULTS,
    SESSION_TIMEOUT,
    ZK_PAUSE,
    CheckedJob,
    Fault,
)
from tests.scheduler.schedkit import AGENT_RESOURCES, CLUSTER_OPTIONS, FAR_FUTURE, SchedulerProcess, app_body

log = logging.getLogger("nemesis")
RECORD = """#!/bin/sh
# record.sh LOG SLEEP SHARD-JSON: one start and one end line per execution (append-only)
echo "S $(date +%s.%N) $$ $3" >> "$1"
sleep "$2"
echo "E $(date +%s.%N) $$ $3" >> "$1"
"""


@dataclass
class Campaign:
    seed: int
    faults: int
    work: Path
    packed_app: Path
    rng: random.Random = field(init=False)
    done: list[Fault] = field(default_factory=list)
    writes: list[checker.Write] = field(default_factory=list)
    leaderless: list[tuple[float, float]] = field(default_factory=list)
    schedulers: list[SchedulerProcess] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.log_path = self.work / "executions.log"
        self.script = self.work / "record.sh"
        self._stop = threading.Event()
        self._generation = 0

    # ------------------------------------------------------------------ the stack
    def start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        self.script.write_text(RECORD)
        self.script.chmod(self.script.stat().st_mode | stat.S_IXUSR)
        self.zk = ZooKeeperServer(data_dir=str(self.work / "zk")).start()
        self.hosts = f"{self.zk.hosts}/campaign"
        self.registry, self.connection = connect(self.hosts)
        self.cluster = LocalMesosCluster(
            agents=3,
            resources=AGENT_RESOURCES,
            work_dir=str(self.work / "mesos"),
            registry="replicated_log",  # as production Mesos: a restarted master recovers its agents
            agent_reregister_timeout=AGENT_REREGISTER,
            **CLUSTER_OPTIONS,
        ).start()
        for _ in range(2):
            self._new_scheduler()
        self.wait(lambda: self.leader() is not None, 40, "a leader")
        leader = self.leader()
        assert leader is not None
        assert self.api(leader, "POST", "/api/app", json=app_body(self.packed_app)).status_code == 204
        self.registering = time.time()  # no instant before this can fire (a new job has no catch-up)
        for job in CHECKED:
            response = self.api(leader, "POST", "/api/job/register", json=self.job_body(job))
            assert response.status_code == 204, response.text
        self.registered = time.time()

    def job_body(self, job: CheckedJob) -> dict[str, Any]:
        policy = {"concurrencyPolicy": "ALLOW"} if job.overlapping else {}
        return {
            **policy,
            "jobName": job.name,
            "appName": "demo",
            "jobType": "SCRIPT",
            "jobExecutionType": "DAEMON" if job.daemon else "TRANSIENT",
            "scriptCommandLine": f"{self.script} {self.log_path} {job.sleep}",
            "cron": job.cron,
            "shardingTotalCount": job.shards,
            "cpuCount": 0.1,
            "memoryMB": 32.0,
            "failover": job.failover,
            "misfire": job.misfire,
        }

    def _new_scheduler(self) -> SchedulerProcess:
        self._generation += 1
        process = SchedulerProcess(
            self.hosts, self.cluster.master_url, self.work / "schedulers", f"s{self._generation}"
        )
        self.schedulers.append(process.start())
        return process

    def live(self) -> list[SchedulerProcess]:
        return [s for s in self.schedulers if s.alive()]

    def leader(self) -> SchedulerProcess | None:
        for process in self.live():
            health = process.health()
            if health and health.get("role") == "leader":
                return process
        return None

    def api(self, process: SchedulerProcess, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return requests.request(method, f"{process.url}{path}", allow_redirects=False, **kwargs)

    @staticmethod
    def wait(predicate: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(0.2)

    def stop(self) -> None:
        self._stop.set()
        for process in self.schedulers:
            if process.proc is not None and process.alive():
                os.kill(process.pid, signal.SIGCONT)
            process.terminate()
        try:
            self.cluster.stop()
        finally:
            self.connection.stop()
            if self.zk.pid is not None:
                os.kill(self.zk.pid, signal.SIGCONT)
            self.zk.stop()

    # ------------------------------------------------------------------ background observers
    def observe(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self._write_loop, name="api-writer", daemon=True),
            threading.Thread(target=self._leader_loop, name="leader-watch", daemon=True),
        ]
        for thread in threads:
            thread.start()
        self._threads = threads
        return threads

    def _leader_loop(self) -> None:
        since: float | None = None
        while not self._stop.is_set():
            up = self.leader() is not None
            now = time.time()
            if not up and since is None:
                since = now
            elif up and since is not None:
                self.leaderless.append((since, now))
                since = None
            time.sleep(0.3)
        if since is not None:
            self.leaderless.append((since, time.time()))

    def _write_loop(self) -> None:
        rng = random.Random(self.seed + 1)
        count = 0
        while not self._stop.wait(rng.uniform(0.2, 1.0)):
            live = self.live()
            if not live:
                continue
            process = rng.choice(live)
            job = rng.choice(API_JOBS)
            op = rng.choice(("register", "register", "update", "deregister", "disable", "enable", "trigger"))
            count += 1
            arg = f"d{count}"
            started = time.time()
            try:
                response = self._write(process, op, job, arg)
                status, text = response.status_code, response.text
                if status == 307:  # leader-only on a standby: not a config write; counts as unanswered
                    status, text = None, "redirected"
            except requests.RequestException as exc:
                status, text = None, type(exc).__name__
            self.writes.append(checker.Write(started, op, job, arg, status, text))

    def _write(self, process: SchedulerProcess, op: str, job: str, arg: str) -> requests.Response:
        if op == "register":
            body = {
                "jobName": job,
                "appName": "demo",
                "jobType": "SCRIPT",
                "jobExecutionType": "TRANSIENT",
                "scriptCommandLine": f"{self.script} {self.log_path} 0.2",
                "cron": FAR_FUTURE,
                "shardingTotalCount": 1,
                "cpuCount": 0.1,
                "memoryMB": 32.0,
                "description": arg,
            }
            return self.api(process, "POST", "/api/job/register", json=body)
        if op == "update":
            return self.api(process, "PUT", "/api/job/update", json={"jobName": job, "description": arg})
        if op == "deregister":
            return self.api(process, "DELETE", "/api/job/deregister", data=job)
        if op == "disable":
            return self.api(process, "POST", f"/api/job/{job}/disable")
        if op == "enable":
            return self.api(process, "POST", f"/api/job/{job}/enable")
        return self.api(process, "POST", "/api/job/trigger", data=job)

    # ------------------------------------------------------------------ the nemesis
    def plan(self) -> list[str]:
        """Every kind once (in a seeded order), then seeded random kinds."""
        kinds = list(FAULTS)
        self.rng.shuffle(kinds)
        return (kinds + [self.rng.choice(FAULTS) for _ in range(self.faults)])[: self.faults]

    def run(self, gap: tuple[float, float] = (3.0, 6.0)) -> None:
        for number, kind in enumerate(self.plan()):
            time.sleep(self.rng.uniform(*gap))
            fault = Fault(kind, time.time())
            log.info("fault %d/%d: %s", number + 1, self.faults, kind)
            getattr(self, kind)(fault)
            fault.end = time.time()
            self.done.append(fault)
            self.wait(lambda: self.leader() is not None, 60, f"a leader after {kind}")

    def kill_leader(self, fault: Fault) -> None:
        leader = self.leader()
        if leader is None:
            fault.detail = "no leader"
            return
        fault.detail = leader.name
        leader.kill()
        time.sleep(self.rng.uniform(0.5, 2.0))
        self._new_scheduler()  # the killed one's replacement (as a supervisor would restart it)

    def stop_leader(self, fault: Fault) -> None:
        leader = self.leader()
        if leader is None:
            fault.detail = "no leader"
            return
        fault.detail = leader.name
        os.kill(leader.pid, signal.SIGSTOP)
        time.sleep(SESSION_TIMEOUT + self.rng.uniform(1.0, 3.0))
        os.kill(leader.pid, signal.SIGCONT)

    def pause_zk(self, fault: Fault) -> None:
        assert self.zk.pid is not None
        os.kill(self.zk.pid, signal.SIGSTOP)
        time.sleep(ZK_PAUSE)
        os.kill(self.zk.pid, signal.SIGCONT)

    def restart_zk(self, fault: Fault) -> None:
        self.zk.stop()
        time.sleep(self.rng.uniform(0.5, 2.0))
        self.zk.start()

    def remove_agent(self, fault: Fault) -> None:
        agent = self.rng.choice(self.cluster.agents)
        fault.detail = agent.agent_id
        self.cluster.remove_agent(agent.agent_id)
        self.cluster.add_agent()

    def restart_master(self, fault: Fault) -> None:
        """The master fails over; one agent's machine died meanwhile and never re-registers (a fresh
        agent joins instead). Its tasks are gone, but the master says nothing about them until
        ``agent_reregister_timeout`` ends and then only that the agent is lost (issue #18)."""
        agent = self.rng.choice(self.cluster.agents)
        fault.detail = agent.agent_id
        self.cluster.restart_master(keep_away=agent.agent_id)
        self.cluster.crash_agent(agent.agent_id)
        self.cluster.add_agent()

    def kill_executor(self, fault: Fault) -> None:
        running = sorted(
            eid
            for agent in list(self.cluster.agents)
            for (_, eid), ex in list(agent.executors.items())
            if ex.pid
        )
        if not running:
            fault.detail = "none running"
            return
        fault.detail = self.rng.choice(running)
        try:
            self.cluster.kill_executor(fault.detail)
        except KeyError:
            fault.detail += " (gone already)"

    # ------------------------------------------------------------------ the end and the verdict
    def quiesce(self, timeout: float = 90.0) -> float:
        """Stop the writer, stop the cron jobs firing, wait until what was queued has run."""
        self._stop.set()
        for thread in getattr(self, "_threads", []):
            thread.join(15)  # a write in flight is answered (or times out) before the final read
        leader = self.leader()
        assert leader is not None
        stopped = time.time()
        for job in CHECKED:
            if not job.daemon:
                response = self.api(
                    leader, "PUT", "/api/job/update", json={"jobName": job.name, "cron": FAR_FUTURE}
                )
                assert response.status_code == 204, response.text
        # no instant after this can fire: a fire's write checks the config version the update moved
        self.quiesced = time.time()
        names = {job.name for job in CHECKED if not job.daemon}

        def drained() -> bool:
            ready = set(self.registry.tree.children(paths.READY)) & names
            failover = {e.job_name for e in self.registry.failover.entries()} & names  # not empty job nodes
            running = {e.job_name for e in self.registry.running.entries()} & names
            return not (ready or failover or running)

        try:
            self.wait(drained, timeout, "the queued runs to finish")
        except AssertionError as exc:
            raise AssertionError(f"seed {self.seed}: {exc}: {self.state_report(names)}") from None
        return stopped

    def state_report(self, names: set[str]) -> str:
        """What is still queued or running (for a failure message), and the leader's log tail."""
        leader = self.leader()
        return (
            f"ready {self.registry.ready.counts()}, failover {self.registry.failover.entries()}, "
            f"running {[e for e in self.registry.running.entries() if e.job_name in names]}, "
            f"leader {leader and leader.name}, faults {[(f.kind, f.detail) for f in self.done]}\n"
            f"{leader.log_tail(6000) if leader else ''}"
        )

    def live_tasks(self) -> set[str]:
        """Task IDs the master knows as starting or running on a registered agent (its ``/state``)."""
        state = requests.get(f"http://{self.cluster.master_url}/state", timeout=10).json()
        return {
            task["id"]
            for framework in state.get("frameworks", [])
            for task in framework.get("tasks", [])
            if task["state"] in ("TASK_STAGING", "TASK_STARTING", "TASK_RUNNING")
        }

    def stale_running(self) -> list[str]:
        """Tasks the scheduler records as running that the master does not know as running: a shard
        that looks running forever (e.g. on an agent that never came back) stays in this list."""
        live = self.live_tasks()
        return sorted(e.task_id for e in self.registry.running.entries() if e.task_id not in live)

    def daemons_back(self, timeout: float = 60.0) -> None:
        """Every DAEMON shard runs again, as a task the master knows as running, and no task the
        scheduler records as running is unknown to the master (no shard looks running forever)."""
        wanted = {(job.name, item) for job in CHECKED if job.daemon for item in range(job.shards)}

        def back() -> bool:
            if self.leader() is None:
                return False
            live = self.live_tasks()
            entries = self.registry.running.entries()
            running = {(e.job_name, e.sharding_item) for e in entries if e.task_id in live}
            return wanted <= running and all(e.task_id in live for e in entries)

        try:
            self.wait(back, timeout, "every DAEMON shard to run again, no stale running task")
        except AssertionError as exc:
            raise AssertionError(f"seed {self.seed}: {exc}: stale {self.stale_running()}") from None

    def verdict(self, stopped: float) -> tuple[dict[str, Any], dict[str, Any]]:
        """(report, details): see ``verdict.judge``."""
        return verdict.judge(self, stopped)

    def settle(self, seconds: float = 15.0) -> None:
        """After the last fault: time for every job to run again (measured by ``_resume_latency``)."""
        time.sleep(seconds)
