"""Throughput of the local Mesos, so it is known not to be the bottleneck of scheduler benchmarks.

1. Command tasks launched and finished per second: a real pymesos scheduler launches ``true`` as
   ``TaskInfo.command`` tasks (built-in command executor: fork, STARTING, RUNNING, FINISHED, acks).
2. Offers per second in simulated mode: many agents, a short allocation interval, a scheduler that
   declines every offer with ``refuse_seconds: 0``.
3. Simulated tasks per second: RUNNING → FINISHED without processes, through the full update path.

Loopback only, bounded run time. Usage: ``python benchmarks/local_mesos.py [--duration 10]``.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from typing import Any

from pymesos import MesosSchedulerDriver, Scheduler

from elasticjob_cloud.localmesos import LocalMesosCluster

FRAMEWORK = {"user": "bench", "name": "localmesos-bench", "failover_timeout": 60.0}


class Bench(Scheduler):
    """Launches up to ``total`` command tasks (or declines everything when total is 0)."""

    def __init__(self, total: int, command: dict[str, Any] | None, cpus: float = 0.05) -> None:
        self.total, self.command, self.cpus = total, command, cpus
        self.launched = self.finished = self.offers = 0
        self.first_launch: float | None = None
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.failures: list[str] = []

    def resourceOffers(self, driver: Any, offers: Any) -> None:
        try:
            for offer in offers:
                with self.lock:
                    self.offers += 1
                    cpus = sum(r.scalar.value for r in offer.resources if r.name == "cpus")
                    count = min(int(cpus / self.cpus + 1e-9), self.total - self.launched) if self.total else 0
                    tasks = [self._task(offer, self.launched + i) for i in range(max(count, 0))]
                    self.launched += len(tasks)
                    if tasks and self.first_launch is None:
                        self.first_launch = time.perf_counter()
                if tasks:
                    driver.launchTasks(offer.id, tasks, filters={"refuse_seconds": 0})
                else:
                    driver.declineOffer(offer.id, filters={"refuse_seconds": 0})
        except Exception as exc:  # never raise into pymesos
            self.failures.append(repr(exc))

    def _task(self, offer: Any, n: int) -> dict[str, Any]:
        task: dict[str, Any] = {
            "name": f"b{n}",
            "task_id": {"value": f"b{n}"},
            "agent_id": {"value": offer.agent_id.value},
            "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": self.cpus}},
                {"name": "mem", "type": "SCALAR", "scalar": {"value": 8}},
            ],
        }
        if self.command is not None:
            task["command"] = self.command
        else:
            task["executor"] = {
                "executor_id": {"value": "sim"},
                "command": {"value": "unused"},
                "resources": [],
            }
        return task

    def statusUpdate(self, driver: Any, status: Any) -> None:
        try:
            if status.state in ("TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR"):
                with self.lock:
                    self.finished += 1
                    if status.state != "TASK_FINISHED":
                        self.failures.append(
                            f"{status.task_id.value}: {status.state} {status.get('message')}"
                        )
                    if self.finished >= self.total:
                        self.done.set()
        except Exception as exc:
            self.failures.append(repr(exc))


def _run(cluster: LocalMesosCluster, bench: Bench, duration: float) -> float:
    driver = MesosSchedulerDriver(bench, dict(FRAMEWORK), cluster.master_url, use_addict=True, timeout=10)
    driver.start()
    try:
        start = time.perf_counter()
        bench.done.wait(duration)
        return time.perf_counter() - (bench.first_launch or start)
    finally:
        driver.stop(failover=False)
        driver.join()


def command_tasks(total: int, duration: float) -> tuple[int, float]:
    with tempfile.TemporaryDirectory(prefix="lm-bench-") as work:
        cluster = LocalMesosCluster(
            agents=2, resources="cpus:16;mem:65536;disk:1000", work_dir=work, allocation_interval=0.05
        ).start()
        try:
            bench = Bench(total, {"value": "true"})
            elapsed = _run(cluster, bench, duration)
        finally:
            cluster.stop()
    if bench.failures:
        print("  failures:", bench.failures[:3])
    return bench.finished, elapsed


def simulated_offers(agents: int, duration: float) -> tuple[int, float]:
    cluster = LocalMesosCluster(agents=agents, allocation_interval=0.01, simulate_tasks=0.0).start()
    try:
        bench = Bench(0, None)
        elapsed = _run(cluster, bench, duration)
    finally:
        cluster.stop()
    return bench.offers, elapsed


def simulated_tasks(total: int, duration: float) -> tuple[int, float]:
    cluster = LocalMesosCluster(
        agents=10, resources="cpus:64;mem:65536", allocation_interval=0.02, simulate_tasks=0.01
    ).start()
    try:
        bench = Bench(total, None, cpus=0.01)
        elapsed = _run(cluster, bench, duration)
    finally:
        cluster.stop()
    return bench.finished, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=float, default=10.0, help="max seconds per measurement (default 10)"
    )
    parser.add_argument("--tasks", type=int, default=500, help="command tasks to run (default 500)")
    parser.add_argument("--sim-tasks", type=int, default=2000, help="simulated tasks to run (default 2000)")
    parser.add_argument("--agents", type=int, default=50, help="agents for the offer benchmark (default 50)")
    args = parser.parse_args()
    duration = min(args.duration, 15.0)  # three measurements: the whole run stays under a minute

    done, elapsed = command_tasks(args.tasks, duration)
    print(f"command tasks: {done} launched+finished in {elapsed:.2f}s = {done / elapsed:.1f} tasks/s")
    offers, elapsed = simulated_offers(args.agents, min(duration, 5.0))
    print(
        f"simulated mode, {args.agents} agents: {offers} offers in {elapsed:.2f}s = {offers / elapsed:.1f} offers/s"
    )
    done, elapsed = simulated_tasks(args.sim_tasks, duration)
    print(f"simulated tasks: {done} RUNNING+FINISHED in {elapsed:.2f}s = {done / elapsed:.1f} tasks/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
