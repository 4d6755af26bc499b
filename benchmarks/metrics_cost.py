"""What the Prometheus metrics cost the scheduler, each measure side by side with its baseline.

* listener: the engine's listener called for launches (batches of 10 task IDs) and for status
  updates (RUNNING then FINISHED per task): a no-op listener versus ``Metrics.engine_event``
  (counters, the fire → LAUNCH match, the per-job final-state counter); µs per task.
* ZooKeeper: the operation timer alone (µs per request, set and unset), and ``KazooTree.get`` on a
  private ZooKeeper without and with it (µs per get; rounds alternate so drift hits both, but a
  loopback round trip varies far more than the timer costs).
* scrape: one ``/metrics`` exposition after 10,000 jobs each finished a task (10,000 series of the
  per-job counter); ms per scrape.

    .venv/bin/python benchmarks/metrics_cost.py [--tasks 100000] [--gets 3000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from elasticjob_cloud.metrics import Metrics
from elasticjob_cloud.registry.zkserver import ZooKeeperServer
from elasticjob_cloud.registry.zookeeper import KazooTree, ZooKeeperConnection


def task_ids(count: int) -> list[str]:
    return [f"job{i % 1000}@-@{i % 10}@-@READY@-@agent-{i % 7}@-@{i:032x}" for i in range(count)]


def drive(listener, ids: list[str]) -> float:
    """Seconds for the launches and the two status updates of every task."""
    fire = SimpleNamespace(job_name="", kind=SimpleNamespace(value="FIRE"), instant=0.0, runs=1, missed=0)
    began = time.perf_counter()
    for start in range(0, len(ids), 10):
        batch = ids[start : start + 10]
        fire.job_name = batch[0].split("@-@", 1)[0]
        listener("fire", fire, 1.0)
        listener("launch", batch, 1.0 + start)
    for task_id in ids:
        listener("status", {"task_id": {"value": task_id}, "state": "TASK_RUNNING"}, 2.0)
        listener("status", {"task_id": {"value": task_id}, "state": "TASK_FINISHED"}, 3.0)
    return time.perf_counter() - began


def listener_cost(tasks: int) -> None:
    ids = task_ids(tasks)
    base, with_metrics = [], []
    for _ in range(3):
        base.append(drive(lambda kind, payload, now: None, ids))
        with_metrics.append(drive(Metrics().engine_event, ids))
    per = lambda runs: min(runs) / tasks * 1e6  # noqa: E731
    print(
        f"listener: no-op {per(base):.2f} µs/task, with metrics {per(with_metrics):.2f} µs/task"
        f" (+{per(with_metrics) - per(base):.2f} µs per launched task and its two status updates)"
    )


def zookeeper_cost(gets: int) -> None:
    with ZooKeeperServer() as server:
        connection = ZooKeeperConnection(server.hosts, "bench").start()
        try:
            tree = KazooTree(connection)
            tree.ensure("/node")
            metrics = Metrics()
            timings: dict[str, list[float]] = {"without": [], "with": []}
            for _ in range(6):
                for name, timer in (("without", None), ("with", metrics.zookeeper_operation)):
                    connection.timer = timer
                    began = time.perf_counter()
                    for _ in range(gets // 6):
                        tree.get("/node")
                    timings[name].append((time.perf_counter() - began) / (gets // 6) * 1e6)
            connection.timer = metrics.zookeeper_operation
            began = time.perf_counter()
            for _ in range(100000):
                with connection.timed("get"):
                    pass
            timed = (time.perf_counter() - began) / 100000 * 1e6
            connection.timer = None
            began = time.perf_counter()
            for _ in range(100000):
                with connection.timed("get"):
                    pass
            untimed = (time.perf_counter() - began) / 100000 * 1e6
            print(f"ZooKeeper timer alone: {timed:.2f} µs per request (unset: {untimed:.2f} µs)")
            print(
                f"ZooKeeper get: without timer {statistics.median(timings['without']):.1f} µs,"
                f" with timer {statistics.median(timings['with']):.1f} µs (median of 6 rounds)"
            )
        finally:
            connection.stop()


def scrape_cost() -> None:
    metrics = Metrics()
    for i in range(10000):
        metrics.engine_event(
            "status", {"task_id": {"value": f"job{i}@-@0@-@READY@-@a@-@u{i}"}, "state": "TASK_FINISHED"}, 1.0
        )
    runs = []
    for _ in range(5):
        began = time.perf_counter()
        body, _ = metrics.exposition()
        runs.append(time.perf_counter() - began)
    print(f"scrape with 10,000 job series: {min(runs) * 1000:.0f} ms, {len(body) / 1024:.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100000)
    parser.add_argument("--gets", type=int, default=3000)
    args = parser.parse_args()
    listener_cost(args.tasks)
    zookeeper_cost(args.gets)
    scrape_cost()


if __name__ == "__main__":
    main()
