"""The floor of fire → LAUNCH on the machine a benchmark runs on, measured in the same run.

A fire's LAUNCH needs at least two round trips after it is due: the ZooKeeper multi that takes the
run off its queue and records its task (the launch transaction: delete ``/state/ready/{job}``,
create ``/state/running/{job}/{item}`` with the task's data), and the ACCEPT that hands the task to
the master. Their times depend on the machine (CPU speed, load, the JVM, loopback), not on the
scheduler, so a latency divided by them carries from one machine to another where the milliseconds
do not.

``measure_floor`` sends those two round trips bare, from one thread with nothing around them, at a
given rate (the benchmark passes its own fires per second): per "fire", one launch-shaped multi on
its own ZooKeeper connection, then one ACCEPT of one task on an offer held by a bare framework
subscribed to the same master (the project's ``MesosDriver``, so the same pipelined channel the
engine uses). It reports each round trip's p50 / p99 / max and their sum per fire (the floor).
Tasks are the local master's simulated ones; the framework acknowledges their updates and tears down
at the end.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from elasticjob_cloud.core import paths
from elasticjob_cloud.mesos.driver import MesosDriver
from elasticjob_cloud.registry.tree import Create, Delete
from elasticjob_cloud.registry.zookeeper import KazooTree, ZooKeeperConnection


class BareFramework:
    """A framework with no scheduler behind it: holds its offers, acknowledges every update."""

    def __init__(self, master: str):
        self.lock = threading.Lock()
        self.held: dict[str, dict[str, Any]] = {}  # offer ID → offer
        self.subscribed = threading.Event()
        self.framework_id = ""
        info = {"name": "floor-probe", "user": "root", "hostname": "127.0.0.1", "failover_timeout": 0.0}
        self.driver = MesosDriver(info, master, self)

    def start(self, timeout: float = 30.0) -> BareFramework:
        self.driver.start()
        if not self.subscribed.wait(timeout):
            raise TimeoutError("the bare framework did not subscribe")
        return self

    def stop(self) -> None:
        self.driver.stop(failover=False)

    def take(self, timeout: float) -> dict[str, Any] | None:
        """Any held offer (and forget it), waiting up to ``timeout`` for one."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if self.held:
                    return self.held.pop(next(iter(self.held)))
            if time.monotonic() > deadline:
                return None
            time.sleep(0.0005)

    # EventSink
    def registered(self, framework_id: str, master: str) -> None:
        self.framework_id = framework_id
        self.subscribed.set()

    def reregistered(self, framework_id: str, master: str) -> None:
        self.subscribed.set()

    def disconnected(self) -> None:
        pass

    def offers(self, offers: list[dict[str, Any]]) -> None:
        with self.lock:
            self.held.update((o["id"]["value"], o) for o in offers)

    def rescinded(self, offer_id: str) -> None:
        with self.lock:
            self.held.pop(offer_id, None)

    def status(self, status: dict[str, Any]) -> None:
        self.driver.acknowledge(status)

    def agent_lost(self, agent_id: str) -> None:
        pass

    def executor_lost(self, executor_id: str, agent_id: str) -> None:
        pass

    def error(self, message: str) -> None:
        pass


def _task(offer: dict[str, Any], number: int) -> dict[str, Any]:
    return {
        "name": f"floor-{number}",
        "task_id": {"value": f"floor-{number}@-@0@-@READY@-@{offer['agent_id']['value']}@-@{uuid.uuid4()}"},
        "agent_id": offer["agent_id"],
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.01}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": 1.0}},
        ],
        "command": {"value": "true", "shell": True},
    }


def measure_floor(zk_hosts: str, master: str, rate: float, seconds: float) -> dict[str, Any]:
    """Bare launch multis and ACCEPTs at ``rate`` fires per second for ``seconds`` (see the module)."""
    namespace = f"floor-{uuid.uuid4().hex[:8]}"
    connection = ZooKeeperConnection(zk_hosts, namespace).start()
    tree = KazooTree(connection)
    fires = max(1, round(rate * seconds))
    jobs = [f"floor-{i:06d}" for i in range(fires)]
    data = json.dumps({"task_id": "x" * 80, "agent": "y" * 40, "host": "127.0.0.1"}).encode()
    framework = BareFramework(master)
    multi_ms: list[float] = []
    accept_ms: list[float] = []
    floor_ms: list[float] = []
    no_offer = 0
    try:
        # Every job's ready and running nodes exist beforehand, as for the scheduler's jobs.
        tree.ensure(paths.READY)
        tree.ensure(paths.RUNNING)
        for start in range(0, fires, 500):
            chunk = jobs[start : start + 500]
            tree.commit_many([[Create(paths.running_job(j)), Create(paths.ready(j), b"1")] for j in chunk])
        framework.start()
        deadline = time.monotonic() + 10.0
        while not framework.held and time.monotonic() < deadline:  # the allocator runs
            time.sleep(0.01)
        begin = time.monotonic() + 0.2
        for number, job in enumerate(jobs):
            time.sleep(max(0.0, begin + number / rate - time.monotonic()))
            started = time.perf_counter()
            tree.commit([Delete(paths.ready(job)), Create(paths.running_task(job, 0), data)])
            multi = time.perf_counter() - started
            offer = framework.take(0.5)
            if offer is None:
                no_offer += 1
                continue
            started = time.perf_counter()
            outcome = next(
                framework.driver.launch_many([([offer["id"]["value"]], [_task(offer, number)])], 0.0)
            )
            accept = time.perf_counter() - started
            if outcome is not True:
                no_offer += 1
                continue
            multi_ms.append(multi * 1000)
            accept_ms.append(accept * 1000)
            floor_ms.append((multi + accept) * 1000)
    finally:
        framework.stop()
        connection.stop()
    return {
        "rate_per_second": round(rate, 1),
        "fires": fires,
        "without_offer_or_refused": no_offer,
        "multi_ms": percentiles(multi_ms),
        "accept_ms": percentiles(accept_ms),
        "floor_ms": percentiles(floor_ms),
    }


def percentiles(values: list[float], digits: int = 2) -> dict[str, float | int]:
    """Count, p50, p99 and max of ``values``, rounded to ``digits``: the benchmarks' one summary."""
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50": round(statistics.median(ordered), digits),
        "p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], digits),
        "max": round(ordered[-1], digits),
    }


def process_cpu(pid: int | None) -> float | None:
    """CPU seconds (user + system, ``/proc/PID/stat`` utime + stime) a process has used so far."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
