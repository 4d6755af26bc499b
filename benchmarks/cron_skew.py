"""Cron skew benchmark: 10,000 TRANSIENT jobs spread over the minute on a real ZooKeeper.

Measures, for every fire, the latency from the scheduled instant to the moment the ready-counter
transaction returned (p50 / p99 / max), the ZooKeeper write requests per fire (a batched multi
counts once for all the fires it carries) and the ops per fire, and whether any scheduled
instant in the window was missed or produced twice.

    .venv/bin/python benchmarks/cron_skew.py [--jobs 10000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from elasticjob_cloud.core import paths
from elasticjob_cloud.core.cron import CronSchedule
from elasticjob_cloud.core.models import AppConfig, ExecutionType, JobConfig, JobType
from elasticjob_cloud.core.schemas import app_to_wire, job_to_wire
from elasticjob_cloud.producer.job_schedules import FireKind, count_due
from elasticjob_cloud.producer.service import ProducerService
from elasticjob_cloud.registry import Registry
from elasticjob_cloud.registry.tree import Create
from elasticjob_cloud.registry.zkserver import ZooKeeperServer
from elasticjob_cloud.registry.zookeeper import KazooTree, ZooKeeperConnection


class CountingTree(KazooTree):
    """Counts write requests sent to ZooKeeper (a multi is one, however many jobs it carries) and ops."""

    writes = 0
    ops = 0

    def commit(self, ops):
        self.writes += 1
        self.ops += len(ops)
        return super().commit(ops)

    def commit_many(self, batches):
        self.writes += sum(1 for ops in batches if ops)
        self.ops += sum(len(ops) for ops in batches)
        return super().commit_many(batches)


def register(tree: CountingTree, jobs: int) -> None:
    app = AppConfig("bench", "http://h/bench.tar.gz", "bin/start.sh")
    tree.commit([Create(paths.app("bench"), json.dumps(app_to_wire(app)).encode())])
    batch = []
    for i in range(jobs):
        job = JobConfig(
            f"job-{i:05d}",
            "bench",
            JobType.SIMPLE,
            ExecutionType.TRANSIENT,
            f"{i % 60} * * * * ?",
            1,
            0.1,
            32.0,
            "a.B",
            misfire=True,
        )
        batch.append([Create(paths.job(job.job_name), json.dumps(job_to_wire(job)).encode())])
        if len(batch) == 500:
            assert not any(tree.commit_many(batch))
            batch = []
    if batch:
        assert not any(tree.commit_many(batch))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    out = sys.stdout.write

    with ZooKeeperServer() as server:
        connection = ZooKeeperConnection(server.hosts, "bench").start()
        tree = CountingTree(connection)
        registry = Registry.over(tree, queue_size=args.jobs * 2)
        started = time.monotonic()
        register(tree, args.jobs)
        out(f"registered {args.jobs} jobs in {time.monotonic() - started:.1f}s\n")

        records, lock = [], threading.Lock()

        def listen(record):
            with lock:
                records.append(record)

        service = ProducerService(registry, "UTC", listener=listen)
        load_started = time.time()
        service.start()
        while sum(1 for r in list(records) if r.kind is FireKind.ANCHOR) < args.jobs:
            time.sleep(0.1)
        loaded_at = time.time()
        out(f"loaded and anchored {args.jobs} jobs in {loaded_at - load_started:.1f}s\n")
        writes_before, ops_before = tree.writes, tree.ops
        window_start = loaded_at
        time.sleep(args.seconds)
        window_end = time.time()
        service.stop()
        writes, ops = tree.writes - writes_before, tree.ops - ops_before
        connection.stop()

    anchors = {r.job_name: r.instant for r in records if r.kind is FireKind.ANCHOR}
    fires = [r for r in records if r.kind is FireKind.FIRE and r.instant >= window_start]
    latencies = [(r.written_at - r.instant) * 1000 for r in fires]
    produced: dict[str, list[float]] = {}
    for r in records:
        if r.kind is FireKind.FIRE:
            produced.setdefault(r.job_name, []).append(r.instant)
    expected = missed = doubled = 0
    margin = 1.0  # an instant in the last second may still have been in flight at stop
    for name, anchor in anchors.items():
        schedule = CronSchedule.parse(f"{int(name[4:]) % 60} * * * * ?", "UTC")
        count, _, _ = count_due(schedule, anchor, window_end - margin)
        got = [t for t in produced.get(name, []) if t <= window_end - margin]
        expected += count
        missed += max(0, count - len(set(got)))
        doubled += len(got) - len(set(got))
    out(
        f"window: {window_end - window_start:.1f}s, fires: {len(fires)} (expected {expected} up to stop-1s)\n"
    )
    out(
        "latency scheduled instant -> ready counter written: "
        f"p50 {statistics.median(latencies):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms, "
        f"max {max(latencies):.1f} ms\n"
    )
    settled = [(r.written_at - r.instant) * 1000 for r in fires if r.instant >= window_start + 2.0]
    out(
        "  of them, instants >= 2 s after the load (the first round also writes the fires due during "
        f"the load): p50 {statistics.median(settled):.1f} ms, p99 {percentile(settled, 0.99):.1f} ms, "
        f"max {max(settled):.1f} ms\n"
    )
    out(
        f"ZooKeeper writes (multis) per fire: {writes / max(1, len(fires)):.3f} ({writes} multis), "
        f"ops per fire: {ops / max(1, len(fires)):.2f} ({ops} ops)\n"
    )
    out(f"missed fires: {missed}, fires produced twice: {doubled}\n")
    return 0 if missed == 0 and doubled == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
