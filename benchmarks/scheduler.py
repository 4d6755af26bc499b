"""Scheduler benchmark: the real engine, cron producer and pymesos driver (``SchedulerService``)
against the local Mesos in simulated-task mode (tasks go RUNNING, then FINISHED after
``--task-seconds``; no executor processes) and a private ZooKeeper.

Set-up: every phase gets its own ZooKeeper namespace, local Mesos and ``SchedulerService``. The
local Mesos runs in a child process by default (``--mesos thread`` runs it in this process, where
its threads compete with the scheduler's for the interpreter lock). Jobs are written straight into
ZooKeeper. They have never run: the engine creates each ``/state/running/{job}`` when it loads
them (part of ``startup``); ``--precreate-running-nodes`` creates those at registration instead,
as on a scheduler whose jobs have all run once.

1. ``latency`` (one run per ``--jobs`` count N): N TRANSIENT 1-shard jobs, job i on cron
   ``{i % 60} * * * * ?`` (N/60 fires at every second). Once all are loaded and anchored, a window
   of ``--seconds`` is observed.
   - ``fire_to_launch_ms``: per fire in the window, the time its LAUNCH (ACCEPT) was answered
     (clocked in the engine listener's ``launch`` call) minus the scheduled cron instant: p50 / p99 /
     max; also the worst per second of the window (``..._max_ms_by_second``). ``unlaunched_fires``:
     fires not launched within 2 s after the window; they are left out of the percentiles.
   - split into ``fire_to_ready_ms`` (instant → the producer's ready-counter write returned,
     ``FireRecord.written_at``) and ``ready_to_launch_ms``; the latter into
     ``ready_to_launching_step_ms`` (→ start of the engine step that launched it: the engine was busy
     or had no offers) and ``launching_step_to_launch_ms`` (that step's own work).
   - ``engine``: launch rounds and their duration, the engine thread's busy share, its ZooKeeper time
     per round, ACCEPT calls (pipelined: each answer timed from the previous one), and pymesos's own
     ACKNOWLEDGE calls (none since acknowledgements went to a thread of their own; kept to show it);
     ``cpu``: CPU seconds by thread and child process; ``startup``: ``SchedulerService.start()`` and
     the first catalog load.
   - what carries from one machine to another: ``cpu_per_1000_fires_seconds``, the CPU time (user +
     system, ``/proc/PID/stat``) each process used in the window per 1,000 fires: the scheduler (this
     process: it also runs the recorder), ZooKeeper's JVM and the local Mesos master (its child
     process); and ``floor``: once the window is over and the scheduler stopped, ``--floor-seconds``
     of bare round trips at the window's fire rate against the same ZooKeeper server and the same
     master (``benchmarks/floor.py``): per fire, one multi shaped like the launch transaction
     (delete the ready node, create the running task's node) and one ACCEPT of one task by a bare
     framework, p50 / p99 each and of their sum (``floor_ms``). ``p99_over_floor``: fire → LAUNCH
     p50 and p99 divided by the floor's p50 and p99.
2. ``burst``: ``--burst-jobs`` x ``--burst-shards`` with a far-future cron, triggered at once by
   creating every ``/state/ready/{job}`` = "1" in one pipelined batch while the engine is idle (offers
   declined, SUPPRESSed). ``shards_per_second`` = shards / (last LAUNCH - trigger write);
   ``first_launch_ms`` includes the REVIVE and the wait for the next allocation.
3. ``zk_writes``: ZooKeeper write requests of the engine's thread (a multi counts once; ``ops`` are
   the ops inside), counted by a ``CountingTree`` per calling thread and classified by content:
   per shard lifecycle = launch multis per launched shard + removal multis per finished shard +
   ``ensure_path`` calls per launched shard. Producer writes are per fire. ``engine_stats_*`` is the
   engine's own ``zk_transactions`` / ``zk_ops`` per launched shard, for comparison.
4. ``offers_after_idle``: 1 s after the burst's last task finished, with nothing pending and no fire
   due: offers the engine holds (``len(engine.offers)``) and the framework's outstanding offers in
   the local master's ``/master/state``.

``--trace none,sqlite,postgresql`` repeats each latency run with the event trace off, on a SQLite
file and on a private PostgreSQL server (the recorder fed by the engine and producer, its writer
thread inserting), side by side; each run also reports the trace rows written and dropped.

Goals: fire → LAUNCH p99 ≤ 100 ms, burst ≥ 500 shards/s, ≤ 3 engine writes per shard, 0 offers held.
Exit status 1 when a fire was never launched, a task failed, or a stop hung.

    .venv/bin/python benchmarks/scheduler.py [--quick] [--jobs 1000,10000] [--seconds 60]
        [--agents 10] [--allocation-interval 0.05] [--precreate-running-nodes] [--profile]
        [--floor-seconds 10] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# pymesos installs a SIGINT handler when imported: import it here, on the main thread, first.
import elasticjob_cloud.mesos.driver  # noqa: F401  isort: skip
import floor
from floor import measure_floor, process_cpu

from elasticjob_cloud.core import paths
from elasticjob_cloud.core.models import AppConfig, ExecutionType, JobConfig, JobType
from elasticjob_cloud.core.schemas import app_to_wire, job_to_wire
from elasticjob_cloud.localmesos import LocalMesosCluster
from elasticjob_cloud.mesos import service as service_module
from elasticjob_cloud.mesos.framework import master_address
from elasticjob_cloud.producer.job_schedules import FireKind, FireRecord
from elasticjob_cloud.producer.service import ProducerService
from elasticjob_cloud.registry import Registry
from elasticjob_cloud.registry.tree import Create, Delete
from elasticjob_cloud.registry.zkserver import ZooKeeperServer
from elasticjob_cloud.registry.zookeeper import KazooTree, ZooKeeperConnection
from elasticjob_cloud.settings import Settings
from elasticjob_cloud.trace.pgserver import PostgresServer
from elasticjob_cloud.trace.service import TraceService

APP = "bench"
FAR_FUTURE = "0 0 0 1 1 ? 2099"
TERMINAL = {"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED"}
READS = ("get", "children", "exists", "child_count", "get_many")
KINDS = ("launch", "removal", "other")

log = logging.getLogger("benchmark")


# ---------------------------------------------------------------------------------- instrumentation
class CountingTree(KazooTree):
    """Counts and times every tree call by calling thread: ``[calls, items, seconds]`` per
    ``(thread, method)``. Items: paths for ``get_many``, multis for ``commit_many``; ``ops`` counts the
    ops inside the multis. A multi (``commit``, or each non-empty batch of ``commit_many``) is one write."""

    def __init__(self, connection: ZooKeeperConnection):
        super().__init__(connection)
        self._lock = threading.Lock()
        self.calls: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0.0])

    def _timed(self, method: str, items: int, call: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return call()
        finally:
            elapsed = time.perf_counter() - started
            with self._lock:
                entry = self.calls[(threading.current_thread().name, method)]
                entry[0] += 1
                entry[1] += items
                entry[2] += elapsed

    def get(self, path):
        return self._timed("get", 1, lambda: super(CountingTree, self).get(path))

    def children(self, path):
        return self._timed("children", 1, lambda: super(CountingTree, self).children(path))

    def children_many(self, paths_):
        return self._timed(
            "children_many", len(paths_), lambda: super(CountingTree, self).children_many(paths_)
        )

    def exists(self, path):
        return self._timed("exists", 1, lambda: super(CountingTree, self).exists(path))

    def child_count(self, path):
        return self._timed("child_count", 1, lambda: super(CountingTree, self).child_count(path))

    def get_many(self, paths_):
        return self._timed("get_many", len(paths_), lambda: super(CountingTree, self).get_many(paths_))

    def ensure(self, path):
        return self._timed("ensure", 1, lambda: super(CountingTree, self).ensure(path))

    def commit(self, ops):
        self._count_ops([ops])
        return self._timed("commit", 1 if ops else 0, lambda: super(CountingTree, self).commit(ops))

    def commit_many(self, batches):
        self._count_ops(batches)
        multis = sum(1 for ops in batches if ops)
        return self._timed("commit_many", multis, lambda: super(CountingTree, self).commit_many(batches))

    def _count_ops(self, batches) -> None:
        thread = threading.current_thread().name
        with self._lock:
            self.calls[(thread, "ops")][1] += sum(len(ops) for ops in batches)
            for ops in batches:
                if ops:
                    kind = write_kind(ops)
                    self.calls[(thread, f"writes:{kind}")][1] += 1
                    self.calls[(thread, f"ops:{kind}")][1] += len(ops)

    def snapshot(self) -> dict[tuple[str, str], list[float]]:
        with self._lock:
            return {key: list(value) for key, value in self.calls.items()}


def write_kind(ops: list) -> str:
    """``launch``: a multi recording a task under /state/running; ``removal``: deletes of such records."""
    task_record = re.compile(re.escape(paths.RUNNING) + r"/[^/]+/[^/]+$")
    if any(isinstance(op, Create) and task_record.match(op.path) for op in ops):
        return "launch"
    if all(isinstance(op, Delete) and task_record.match(op.path) for op in ops):
        return "removal"
    return "other"


def usage(before: dict, after: dict, thread: str) -> dict[str, float]:
    """One thread's ZooKeeper use between two snapshots: writes, ops, ensures, reads, seconds."""

    def delta(method: str, index: int) -> float:
        return (
            after.get((thread, method), [0, 0, 0.0])[index] - before.get((thread, method), [0, 0, 0.0])[index]
        )

    return {
        "writes": delta("commit", 1) + delta("commit_many", 1),
        "ops": delta("ops", 1),
        "ensure": delta("ensure", 0),
        **{f"{what}:{kind}": delta(f"{what}:{kind}", 1) for what in ("writes", "ops") for kind in KINDS},
        "write_seconds": delta("commit", 2) + delta("commit_many", 2) + delta("ensure", 2),
        "read_calls": sum(delta(m, 0) for m in READS),
        "read_paths": sum(delta(m, 1) for m in READS),
        "read_seconds": sum(delta(m, 2) for m in READS),
    }


class Recorder:
    """The engine listener, the producer's fire listener, and timers around the engine's steps."""

    def __init__(self) -> None:
        self.launches: list[tuple[float, str, float]] = []  # (LAUNCH returned, job, its step's now)
        self.finished: list[float] = []  # clock of each terminal status
        self.failed: list[str] = []
        self.fires: list[FireRecord] = []
        self.rounds: list[tuple[float, float]] = []  # (start, seconds) of Engine.round
        self.steps: list[tuple[float, float]] = []  # (start, seconds) of one loop step
        self.refreshes: list[float] = []  # seconds of each Catalog.refresh
        self.accepts: list[tuple[float, float]] = []  # (start, seconds) of each driver.launch (ACCEPT)
        self.acks: list[tuple[float, float]] = []  # (start, seconds) of each ACKNOWLEDGE sent by pymesos

    def on_engine(self, kind: str, data: Any, now: float) -> None:
        clock = time.time()
        if kind == "launch":
            self.launches.extend((clock, task_id.split("@-@", 1)[0], now) for task_id in data)
        elif kind == "status" and data.get("state") in TERMINAL:
            self.finished.append(clock)
            if data["state"] != "TASK_FINISHED":
                self.failed.append(f"{data['task_id']['value']}: {data['state']} {data.get('message')}")

    def on_fire(self, record: FireRecord) -> None:
        self.fires.append(record)

    def anchored(self) -> int:
        return sum(1 for r in list(self.fires) if r.kind is FireKind.ANCHOR)

    def instrument(self, service: service_module.SchedulerService) -> None:
        """Wrap (per instance) the engine's round, the catalog refresh and the loop's step."""
        engine = service.engine
        engine.round = _timing(engine.round, self.rounds)
        engine.catalog.refresh = _timing(engine.catalog.refresh, None, self.refreshes)
        service.loop._step = _timing(service.loop._step, self.steps)

    def instrument_driver(self, service: service_module.SchedulerService) -> None:
        """After ``start()`` (the driver exists then; it subscribes asynchronously, so before any launch)."""
        assert service.driver is not None
        service.driver.launch_many = _timing_each(service.driver.launch_many, self.accepts)
        # Updates are acknowledged explicitly on the driver's own acknowledger thread; pymesos's own
        # acknowledge call (synchronous, under the lock every other call takes) is timed to show
        # that it stays unused.
        pymesos_driver = service.driver._driver
        pymesos_driver.acknowledgeStatusUpdate = _timing(pymesos_driver.acknowledgeStatusUpdate, self.acks)


def _timing(function: Callable[..., Any], spans: list | None, durations: list | None = None):
    def timed(*args: Any) -> Any:
        start = time.time()
        began = time.perf_counter()
        try:
            return function(*args)
        finally:
            elapsed = time.perf_counter() - began
            if spans is not None:
                spans.append((start, elapsed))
            if durations is not None:
                durations.append(elapsed)

    return timed


def _timing_each(function: Callable[..., Iterator[Any]], spans: list) -> Callable[..., Iterator[Any]]:
    """For pipelined calls: each answer's span runs from the previous answer (or the call)."""

    def timed(*args: Any) -> Iterator[Any]:
        start = time.time()
        began = time.perf_counter()
        for answer in function(*args):
            elapsed = time.perf_counter() - began
            spans.append((start, elapsed))
            yield answer
            start, began = time.time(), time.perf_counter()

    return timed


@contextmanager
def recording_producer(recorder: Recorder) -> Iterator[None]:
    """``SchedulerService`` builds its own ``ProducerService``: hand it a listener that records too."""

    class RecordingProducer(ProducerService):
        def __init__(self, registry, zone, clock=time.time, listener=None):
            def both(record: FireRecord) -> None:
                recorder.on_fire(record)
                if listener is not None:
                    listener(record)

            super().__init__(registry, zone, clock, both)

    original = service_module.ProducerService
    service_module.ProducerService = RecordingProducer
    try:
        yield
    finally:
        service_module.ProducerService = original


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) of this process's live threads, summed by thread name with the
    numbers taken out (``Thread-12 (serve)`` and ``Thread-40 (serve)`` add up). Linux ``/proc``."""
    tick = os.sysconf("SC_CLK_TCK")
    names = {t.native_id: t.name for t in threading.enumerate()}
    found: dict[str, float] = defaultdict(float)
    for entry in os.scandir("/proc/self/task"):
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = re.sub(r"-?\d+", "", names.get(int(entry.name), "(not a Python thread)")).strip()
        found[name] += (int(fields[11]) + int(fields[12])) / tick
    return found


def stacks() -> str:
    """Every thread's Python stack, by thread name."""
    names = {t.ident: t.name for t in threading.enumerate()}
    return "\n".join(
        f"--- {names.get(ident, ident)}\n" + "".join(traceback.format_stack(frame))
        for ident, frame in sys._current_frames().items()
    )


def children_cpu() -> dict[str, float]:
    """CPU seconds of this process's child processes (ZooKeeper's java, the local Mesos), by command."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[str, float] = defaultdict(float)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            head, rest = Path(entry.path, "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        fields = rest.split()
        if int(fields[1]) == os.getpid():
            found[head.split("(", 1)[1]] += (int(fields[11]) + int(fields[12])) / tick
    return found


def cpu_delta(before: dict[str, float], after: dict[str, float], top: int = 8) -> dict[str, float]:
    delta = {name: round(after[name] - before.get(name, 0.0), 2) for name in after}
    return dict(sorted(delta.items(), key=lambda item: -item[1])[:top])


class Sampler:
    """Samples one thread's stack every ``interval`` s: the share of samples each function is on the
    stack (inclusive), for functions of this project, kazoo and pymesos (a poor man's profiler)."""

    KEEP = ("elasticjob_cloud", "kazoo", "pymesos")

    def __init__(self, thread_name: str, interval: float = 0.002):
        self.thread_name, self.interval = thread_name, interval
        self.counts: dict[str, int] = defaultdict(int)
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        ranked = sorted(self.counts.items(), key=lambda item: -item[1])[:25]
        return {name: round(count / max(1, self.samples), 3) for name, count in ranked}

    def _run(self) -> None:
        ident = next((t.ident for t in threading.enumerate() if t.name == self.thread_name), None)
        while ident is not None and not self._stop.wait(self.interval):
            frame = sys._current_frames().get(ident)
            self.samples += 1
            seen = set()
            while frame is not None:
                code = frame.f_code
                if any(part in code.co_filename for part in self.KEEP):
                    where = f"{Path(code.co_filename).stem}.{code.co_name}"
                    if where not in seen:
                        seen.add(where)
                        self.counts[where] += 1
                frame = frame.f_back


# ---------------------------------------------------------------------------------- stack
def local_mesos_child(argv: list[str]) -> int:
    """Entry point of the ``MesosProcess`` child: ``elasticjob-cloud`` args."""
    from elasticjob_cloud.cli import main as cli_main

    return cli_main(argv)


class MesosProcess:
    """The same local Mesos run as ``elasticjob-cloud local-mesos`` in a child process, so that its
    threads do not share the scheduler's interpreter lock (a real master is another process too)."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.work_dir = tempfile.mkdtemp(prefix="bench-mesos-")
        self.master_url = ""
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> MesosProcess:
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--local-mesos-child",
            "--log-level",
            "ERROR",
            "local-mesos",
            "--port",
            "0",
            "--work-dir",
            self.work_dir,
            "--agents",
            str(self.args.agents),
            "--resources",
            self.args.resources,
            "--allocation-interval",
            str(self.args.allocation_interval),
            "--simulate-tasks",
            str(self.args.task_seconds),
        ]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if found := re.search(r"local Mesos master: http://(\S+)", line):
                self.master_url = found.group(1)
                break
        if not self.master_url:
            self.stop()
            raise RuntimeError("the local Mesos process did not start")
        threading.Thread(target=self._process.stdout.read, daemon=True).start()  # keep the pipe drained
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()  # SIGTERM: the command stops its cluster and exits
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.work_dir, ignore_errors=True)


class Stack:
    """ZooKeeper namespace + local Mesos (simulated tasks) + SchedulerService, for one phase."""

    def __init__(
        self,
        server: ZooKeeperServer,
        namespace: str,
        args: argparse.Namespace,
        jobs: int,
        trace_url: str | None = None,
    ):
        self.args = args
        self.trace_url = trace_url
        self.trace: TraceService | None = None
        self.recorder = Recorder()
        self.zk_hosts, self.zk_pid = server.hosts, server.pid
        self.connection = ZooKeeperConnection(server.hosts, namespace).start()
        self.tree = CountingTree(self.connection)
        self.registry = Registry.over(self.tree, queue_size=max(10_000, jobs * 2))
        self.cluster: LocalMesosCluster | MesosProcess | None = None
        self.service: service_module.SchedulerService | None = None
        self.settings = Settings(
            zk_servers=server.hosts,
            zk_namespace=namespace,
            hostname="127.0.0.1",
            http_port=0,
            time_zone="UTC",
            offer_hold_seconds=args.offer_hold,
            job_state_queue_size=max(10_000, jobs * 2),
        )
        self.start_seconds = 0.0
        self.stop_hung = False
        self._stopper: threading.Thread | None = None

    def start(self) -> Stack:
        if self.args.mesos == "process":
            self.cluster = MesosProcess(self.args).start()
        else:
            self.cluster = LocalMesosCluster(
                agents=self.args.agents,
                resources=self.args.resources,
                allocation_interval=self.args.allocation_interval,
                simulate_tasks=self.args.task_seconds,
            ).start()
        settings = self.settings.replace(mesos_url=self.cluster.master_url)
        if self.trace_url is not None:
            journal = Path(tempfile.mkdtemp(prefix="bench-trace-")) / "journal"
            self.trace = TraceService(self.trace_url, "UTC", journal).start()
        with recording_producer(self.recorder):
            self.service = service_module.SchedulerService(
                settings,
                self.registry,
                0,
                self.recorder.on_engine,
                trace=self.trace.recorder if self.trace is not None else None,
            )
        self.recorder.instrument(self.service)
        started = time.perf_counter()
        self.service.start()
        self.start_seconds = time.perf_counter() - started
        self.recorder.instrument_driver(self.service)
        return self

    def stop_scheduler(self, deadline: float = 30.0) -> bool:
        """``SchedulerService.stop()`` alone (the local Mesos keeps running); False when it is still
        blocked after ``deadline`` (``stop_hung``, reported with every thread's stack)."""
        if self._stopper is None:
            log.info("stopping the scheduler")
            self._stopper = threading.Thread(
                target=self.service.stop if self.service else lambda: None, daemon=True
            )
            self._stopper.start()
        self._stopper.join(deadline)
        if self._stopper.is_alive() and not self.stop_hung:
            self.stop_hung = True
            log.error("SchedulerService.stop() still blocked after %.0f s; stacks:\n%s", deadline, stacks())
        return not self._stopper.is_alive()

    def stop(self, deadline: float = 30.0) -> None:
        """The scheduler (``stop_scheduler``), then the local Mesos and the ZooKeeper connection.
        Stopping the local Mesos closes a hung scheduler's driver connections, which unblocks it."""
        self.stop_scheduler(deadline)
        stopper = self._stopper
        assert stopper is not None
        log.info("stopping the local Mesos")
        if self.cluster is not None:
            self.cluster.stop()
        stopper.join(deadline)
        if self.trace is not None:
            self.trace.stop()
        self.connection.stop()
        log.info("stopped%s", " (the scheduler's stop never returned)" if stopper.is_alive() else "")

    @property
    def engine(self):
        assert self.service is not None
        return self.service.engine

    def pids(self) -> dict[str, int | None]:
        """The processes whose CPU the latency run reports: the scheduler (this process), ZooKeeper's
        JVM and the local Mesos master (None when it runs in this process: ``--mesos thread``)."""
        master = self.cluster._process if isinstance(self.cluster, MesosProcess) else None
        return {"scheduler": os.getpid(), "zookeeper": self.zk_pid, "master": master.pid if master else None}

    def wait_ready(self, jobs: int, timeout: float) -> float:
        """Until subscribed, the catalog holds every job and the producer anchored them all."""
        started = time.perf_counter()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            engine = self.engine
            if (
                engine.subscribed
                and engine.loaded
                and engine.awaiting is None
                and len(engine.catalog.jobs) >= jobs
                and self.recorder.anchored() >= jobs
            ):
                return time.perf_counter() - started
            time.sleep(0.05)
        raise TimeoutError(f"scheduler not ready with {jobs} jobs after {timeout}s")

    def master_offers(self) -> tuple[int, int]:
        """(outstanding offers to this framework, to all frameworks) in the master's /master/state."""
        assert self.cluster is not None
        with urllib.request.urlopen(f"http://{self.cluster.master_url}/master/state", timeout=5) as answer:
            state = json.load(answer)
        ours = [f for f in state["frameworks"] if f["id"] == self.engine.framework_id]
        return (len(ours[0]["offers"]) if ours else -1), sum(len(f["offers"]) for f in state["frameworks"])


def register(
    tree: CountingTree, names_and_crons: list[tuple[str, str]], shards: int, running_nodes: bool = False
) -> None:
    """Jobs written straight into ZooKeeper (pipelined creates), as ``cron_skew.py`` does. With
    ``running_nodes`` each job's ``/state/running/{job}`` is created too, as after its first run
    (the engine keeps that node while the job exists)."""
    app = AppConfig(APP, "http://h/bench.tar.gz", "bin/start.sh", cpu_count=0.01, memory_mb=1.0)
    tree.commit([Create(paths.app(APP), json.dumps(app_to_wire(app)).encode())])
    tree.ensure(paths.RUNNING)
    batch: list[list] = []
    for name, cron in names_and_crons:
        job = JobConfig(
            name, APP, JobType.SIMPLE, ExecutionType.TRANSIENT, cron, shards, 0.01, 1.0, "a.B", misfire=True
        )
        batch.append([Create(paths.job(name), json.dumps(job_to_wire(job)).encode())])
        if running_nodes:
            batch[-1].append(Create(paths.running_job(name)))
        if len(batch) == 500:
            assert not any(tree.commit_many(batch))
            batch = []
    if batch:
        assert not any(tree.commit_many(batch))


def percentiles(values: list[float]) -> dict[str, float | int]:
    return floor.percentiles(values, digits=1)


def within(spans: list[tuple[float, float]], start: float, end: float) -> list[float]:
    return [seconds for at, seconds in list(spans) if start <= at < end]


# ---------------------------------------------------------------------------------- phases
def run_latency(
    server: ZooKeeperServer,
    args: argparse.Namespace,
    jobs: int,
    trace: tuple[str, str | None] = ("none", None),
) -> dict[str, Any]:
    stack = Stack(server, f"latency-{jobs}-{trace[0]}", args, jobs, trace[1])
    try:
        started = time.perf_counter()
        crons = [(f"job-{i:05d}", f"{i % 60} * * * * ?") for i in range(jobs)]
        register(stack.tree, crons, 1, args.precreate_running_nodes)
        registered = time.perf_counter() - started
        log.info("latency run with %d jobs: registered; starting the scheduler", jobs)
        stack.start()
        ready_seconds = stack.wait_ready(jobs, timeout=120)
        log.info("all %d jobs loaded and anchored; measuring %.0f s", jobs, args.seconds)
        rec, engine = stack.recorder, stack.engine
        window_start = math.ceil(time.time()) + 1.0
        time.sleep(window_start - time.time())
        calls0, stats0, finished0 = stack.tree.snapshot(), _engine_counts(engine), len(rec.finished)
        cpu0, times0, children0 = thread_cpu(), os.times(), children_cpu()
        process0 = {name: process_cpu(pid) for name, pid in stack.pids().items()}
        sampler = Sampler("mesos-engine").start() if args.profile else None
        time.sleep(window_start + args.seconds - time.time())
        window_end = time.time()
        calls1, stats1, finished1 = stack.tree.snapshot(), _engine_counts(engine), len(rec.finished)
        cpu1, times1, children1 = thread_cpu(), os.times(), children_cpu()
        process1 = {name: process_cpu(pid) for name, pid in stack.pids().items()}
        profile = sampler.stop() if sampler is not None else None
        time.sleep(2.0)  # let the window's last fires launch
        held_at_end = len(engine.offers)
        floor = None
        if args.floor_seconds > 0 and stack.stop_scheduler():
            rate = len(
                [r for r in rec.fires if r.kind is FireKind.FIRE and window_start <= r.instant < window_end]
            )
            log.info(
                "floor: bare launch multis and ACCEPTs at %.0f/s for %.0f s",
                rate / args.seconds,
                args.floor_seconds,
            )
            assert stack.cluster is not None
            floor = measure_floor(
                stack.zk_hosts,
                master_address(stack.cluster.master_url),
                rate / args.seconds,
                args.floor_seconds,
            )
    finally:
        stack.stop()

    launches: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for at, job, step in rec.launches:
        launches[job].append((at, step))
    fire_to_launch, fire_to_ready, ready_to_launch, unlaunched = [], [], [], 0
    ready_to_step, step_to_launch = [], []
    by_second: dict[int, list[float]] = defaultdict(list)
    fires = [r for r in rec.fires if r.kind is FireKind.FIRE and window_start <= r.instant < window_end]
    for record in fires:
        after = [t for t in launches.get(record.job_name, []) if t[0] >= record.written_at]
        if not after:
            unlaunched += 1
            continue
        launched, step = min(after)
        fire_to_launch.append((launched - record.instant) * 1000)
        by_second[int(record.instant - window_start)].append(fire_to_launch[-1])
        fire_to_ready.append((record.written_at - record.instant) * 1000)
        ready_to_launch.append((launched - record.written_at) * 1000)
        ready_to_step.append((step - record.written_at) * 1000)
        step_to_launch.append((launched - step) * 1000)
    finished = finished1 - finished0
    engine_zk = usage(calls0, calls1, "mesos-engine")
    producer_zk = usage(calls0, calls1, "cron-producer")
    rounds = within(rec.rounds, window_start, window_end)
    steps = within(rec.steps, window_start, window_end)
    accepts = within(rec.accepts, window_start, window_end)
    acks = within(rec.acks, window_start, window_end)
    writer = stack.trace.writer if stack.trace is not None else None
    return {
        "jobs": jobs,
        "trace": trace[0],
        "trace_rows_written": writer.written if writer is not None else 0,
        "trace_rows_dropped": writer.dropped if writer is not None else 0,
        "stop_hung": stack.stop_hung,
        "launch_failures": engine.stats.launch_failures,
        "window_seconds": round(window_end - window_start, 1),
        "fires": len(fires),
        "unlaunched_fires": unlaunched,
        "failed_tasks": len(rec.failed),
        "fire_to_launch_ms": percentiles(fire_to_launch),
        "fire_to_ready_ms": percentiles(fire_to_ready),
        "ready_to_launch_ms": percentiles(ready_to_launch),
        "fire_to_launch_max_ms_by_second": [round(max(by_second[i]), 1) for i in sorted(by_second)],
        "ready_to_launching_step_ms": percentiles(ready_to_step),
        "launching_step_to_launch_ms": percentiles(step_to_launch),
        "startup": {
            "register_seconds": round(registered, 2),
            "service_start_seconds": round(stack.start_seconds, 2),
            "until_loaded_and_anchored_seconds": round(ready_seconds, 2),
            "first_catalog_refresh_seconds": round(rec.refreshes[0], 3) if rec.refreshes else None,
        },
        "engine": {
            "rounds": len(rounds),
            "round_ms": percentiles([s * 1000 for s in rounds]),
            "busy_share": round(sum(steps) / max(1e-9, window_end - window_start), 3),
            "zk_read_ms_per_round": round(engine_zk["read_seconds"] * 1000 / max(1, len(rounds)), 2),
            "zk_read_paths_per_round": round(engine_zk["read_paths"] / max(1, len(rounds)), 1),
            "zk_write_ms_per_round": round(engine_zk["write_seconds"] * 1000 / max(1, len(rounds)), 2),
            "ensure_calls": engine_zk["ensure"],
            "accept_calls": len(accepts),
            "accept_ms": percentiles([s * 1000 for s in accepts]),
            "accept_ms_per_round": round(sum(accepts) * 1000 / max(1, len(rounds)), 2),
            "acks": len(acks),
            "ack_ms": percentiles([s * 1000 for s in acks]),
            "ack_busy_share": round(sum(acks) / (window_end - window_start), 3),
            "offers_received": stats1["offers_received"] - stats0["offers_received"],
            "offers_declined": stats1["offers_declined"] - stats0["offers_declined"],
            "offers_held_at_end": held_at_end,
        },
        "zk_writes": _per_shard(engine_zk, producer_zk, stats0, stats1, finished, len(fires)),
        "cpu": {
            "process_share": round(
                (times1.user + times1.system - times0.user - times0.system) / (window_end - window_start), 2
            ),
            "by_thread_seconds": cpu_delta(cpu0, cpu1),
            "child_processes_seconds": cpu_delta(children0, children1),
        },
        "cpu_per_1000_fires_seconds": {
            name: round((after - process0[name]) * 1000 / max(1, len(fires)), 3)
            for name, after in process1.items()
            if after is not None and process0[name] is not None
        },
        "floor": floor,
        "p99_over_floor": _over_floor(percentiles(fire_to_launch), floor),
        **({"engine_profile": profile} if profile is not None else {}),
    }


def _over_floor(fire_to_launch: dict[str, Any], floor: dict[str, Any] | None) -> dict[str, float] | None:
    """fire → LAUNCH as a multiple of the floor (p50 over its p50, p99 over its p99)."""
    if not floor or not floor["floor_ms"].get("count") or not fire_to_launch.get("count"):
        return None
    return {q: round(fire_to_launch[q] / max(1e-9, floor["floor_ms"][q]), 1) for q in ("p50", "p99")}


def run_burst(server: ZooKeeperServer, args: argparse.Namespace) -> dict[str, Any]:
    jobs, shards = args.burst_jobs, args.burst_shards
    total = jobs * shards
    names = [f"burst-{i:04d}" for i in range(jobs)]
    stack = Stack(server, "burst", args, jobs)
    try:
        register(stack.tree, [(name, FAR_FUTURE) for name in names], shards)
        log.info("burst: %d jobs x %d shards registered; starting the scheduler", jobs, shards)
        stack.start()
        stack.wait_ready(jobs, timeout=60)
        rec, engine = stack.recorder, stack.engine
        _wait(lambda: engine.suppressed and not len(engine.offers), 10, "the engine to go idle")
        time.sleep(0.5)
        calls0, stats0 = stack.tree.snapshot(), _engine_counts(engine)
        triggered = time.time()
        assert not any(stack.tree.commit_many([[Create(paths.ready(name), b"1")] for name in names]))
        written = time.time()
        _wait(lambda: len(rec.launches) >= total, 60, f"{total} launches")
        _wait(lambda: len(rec.finished) >= total, 60, f"{total} finished tasks")
        last_finished = max(rec.finished)
        time.sleep(max(0.0, last_finished + 1.0 - time.time()))
        held = len(engine.offers)
        ours, everyone = stack.master_offers()
        calls1, stats1 = stack.tree.snapshot(), _engine_counts(engine)
        suppressed = engine.suppressed
    finally:
        stack.stop()
    times = sorted(at for at, _, _ in rec.launches)
    return {
        "jobs": jobs,
        "shards": total,
        "stop_hung": stack.stop_hung,
        "launch_failures": engine.stats.launch_failures,
        "failed_tasks": len(rec.failed),
        "trigger_write_ms": round((written - triggered) * 1000, 1),
        "first_launch_ms": round((times[0] - triggered) * 1000, 1),
        "last_launch_ms": round((times[-1] - triggered) * 1000, 1),
        "shards_per_second": round(total / max(1e-9, times[-1] - triggered), 1),
        "launch_calls": len({at for at, _, _ in rec.launches}),
        "offers_after_idle": {
            "engine_held": held,
            "master_outstanding_for_framework": ours,
            "master_outstanding_all": everyone,
            "engine_suppressed": suppressed,
        },
        "zk_writes": _per_shard(
            usage(calls0, calls1, "mesos-engine"),
            usage(calls0, calls1, "cron-producer"),
            stats0,
            stats1,
            total,
            0,
        ),
    }


def _engine_counts(engine) -> dict[str, int]:
    stats = engine.stats
    return {
        "zk_transactions": stats.zk_transactions,
        "zk_ops": stats.zk_ops,
        "launched": stats.launched,
        "offers_received": stats.offers_received,
        "offers_declined": stats.offers_declined,
    }


def _per_shard(engine_zk, producer_zk, stats0, stats1, finished: int, fires: int) -> dict[str, Any]:
    """Engine writes per shard lifecycle = launch multis per launched shard + removal multis per finished
    shard + ``ensure_path`` calls per launched shard (each creates at most one node); ``other`` writes
    (failover entries, orphan ready nodes) are listed apart. Producer writes are per fire."""
    launched = max(1, stats1["launched"] - stats0["launched"])
    done = max(1, finished)
    launch_w, removal_w = engine_zk["writes:launch"] / launched, engine_zk["writes:removal"] / done
    launch_o, removal_o = engine_zk["ops:launch"] / launched, engine_zk["ops:removal"] / done
    ensure = engine_zk["ensure"] / launched
    return {
        "launched_shards": stats1["launched"] - stats0["launched"],
        "finished_shards": finished,
        "engine_writes_per_shard": round(launch_w + removal_w + ensure, 2),
        "engine_ops_per_shard": round(launch_o + removal_o, 2),
        "launch_writes_per_shard": round(launch_w, 2),
        "removal_writes_per_shard": round(removal_w, 2),
        "ensure_per_shard": round(ensure, 2),
        "other_writes": engine_zk["writes:other"],
        "engine_stats_transactions_per_shard": round(
            (stats1["zk_transactions"] - stats0["zk_transactions"]) / launched, 2
        ),
        "engine_stats_ops_per_shard": round((stats1["zk_ops"] - stats0["zk_ops"]) / launched, 2),
        "producer_writes_per_fire": round(producer_zk["writes"] / max(1, fires), 3) if fires else None,
        "producer_ops_per_fire": round(producer_zk["ops"] / max(1, fires), 2) if fires else None,
    }


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.01)


# ---------------------------------------------------------------------------------- report
def human(summary: dict[str, Any]) -> list[str]:
    lines = [
        f"settings: {summary['settings']}",
    ]
    for run in summary["latency"]:
        f2l, eng, zk = run["fire_to_launch_ms"], run["engine"], run["zk_writes"]
        lines += [
            f"[{run['jobs']} jobs, trace {run['trace']}] rows written {run['trace_rows_written']}, "
            f"dropped {run['trace_rows_dropped']}",
            f"[{run['jobs']} jobs] fire -> LAUNCH: p50 {f2l.get('p50')} ms, p99 {f2l.get('p99')} ms, "
            f"max {f2l.get('max')} ms over {run['fires']} fires in {run['window_seconds']} s "
            f"(unlaunched {run['unlaunched_fires']}); fire -> ready p99 {run['fire_to_ready_ms'].get('p99')} ms, "
            f"ready -> LAUNCH p99 {run['ready_to_launch_ms'].get('p99')} ms",
            f"[{run['jobs']} jobs] engine: {eng['rounds']} rounds, round p50 {eng['round_ms'].get('p50')} / "
            f"p99 {eng['round_ms'].get('p99')} / max {eng['round_ms'].get('max')} ms, busy {eng['busy_share']:.0%}, "
            f"per round: ZooKeeper reads {eng['zk_read_ms_per_round']} ms ({eng['zk_read_paths_per_round']} paths), "
            f"writes+ensure {eng['zk_write_ms_per_round']} ms, ACCEPT calls {eng['accept_ms_per_round']} ms "
            f"(ACCEPT p50 {eng['accept_ms'].get('p50')} ms); "
            f"start-up: service.start {run['startup']['service_start_seconds']} s, loaded+anchored "
            f"{run['startup']['until_loaded_and_anchored_seconds']} s, first catalog load "
            f"{run['startup']['first_catalog_refresh_seconds']} s",
            f"[{run['jobs']} jobs] {zk_line(zk)}; producer per fire: {zk['producer_writes_per_fire']} writes, "
            f"{zk['producer_ops_per_fire']} ops",
            f"[{run['jobs']} jobs] {cpu_floor_line(run)}",
        ]
    burst = summary["burst"]
    zk, idle = burst["zk_writes"], burst["offers_after_idle"]
    hung = [r for r in [*summary["latency"], burst] if r["stop_hung"]]
    lines += [
        f"[burst {burst['jobs']}x{burst['shards'] // burst['jobs']}] {burst['shards_per_second']} shards/s "
        f"(first LAUNCH {burst['first_launch_ms']} ms, last {burst['last_launch_ms']} ms after the trigger write; "
        f"{burst['launch_calls']} LAUNCH calls)",
        f"[burst] {zk_line(zk)}",
        f"[idle] 1 s after the last task ended: engine holds {idle['engine_held']} offers, master lists "
        f"{idle['master_outstanding_for_framework']} outstanding for the framework "
        f"(suppressed: {idle['engine_suppressed']})",
        *(f"[{r.get('jobs')} jobs] SchedulerService.stop() HUNG (see the stacks logged)" for r in hung),
        "goals: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in summary["goals"].items()),
    ]
    return lines


def cpu_floor_line(run: dict[str, Any]) -> str:
    cpu = ", ".join(
        f"{name} {seconds * 1000:.0f} ms" for name, seconds in run["cpu_per_1000_fires_seconds"].items()
    )
    floor, over = run["floor"], run["p99_over_floor"]
    if not floor:
        return f"CPU per 1,000 fires: {cpu}; floor not measured"
    m, a, f = floor["multi_ms"], floor["accept_ms"], floor["floor_ms"]
    return (
        f"CPU per 1,000 fires: {cpu}; floor at {floor['rate_per_second']}/s: launch multi p50 {m.get('p50')} / "
        f"p99 {m.get('p99')} ms, ACCEPT p50 {a.get('p50')} / p99 {a.get('p99')} ms, both p50 {f.get('p50')} / "
        f"p99 {f.get('p99')} ms ({floor['without_offer_or_refused']} without an offer); fire -> LAUNCH = "
        + (f"{over['p50']}x floor at p50, {over['p99']}x at p99" if over else "n/a")
    )


def zk_line(zk: dict[str, Any]) -> str:
    return (
        f"ZooKeeper writes per shard lifecycle (engine): {zk['engine_writes_per_shard']} "
        f"(launch {zk['launch_writes_per_shard']} + removal {zk['removal_writes_per_shard']} + ensure_path "
        f"{zk['ensure_per_shard']}), {zk['engine_ops_per_shard']} ops, {zk['other_writes']} other writes; "
        f"engine.stats says {zk['engine_stats_transactions_per_shard']} transactions, "
        f"{zk['engine_stats_ops_per_shard']} ops per launched shard"
    )


def goals(summary: dict[str, Any]) -> dict[str, bool]:
    burst = summary["burst"]
    idle = burst["offers_after_idle"]
    result = {
        f"p99<=100ms[{run['jobs']},trace {run['trace']}]": run["fire_to_launch_ms"].get("p99", math.inf)
        <= 100
        for run in summary["latency"]
    }
    result["burst>=500/s"] = burst["shards_per_second"] >= 500
    writes = [run["zk_writes"] for run in summary["latency"]] + [burst["zk_writes"]]
    result["zk_writes<=3/shard"] = all(w["engine_writes_per_shard"] <= 3 for w in writes)
    result["0_offers_idle"] = idle["engine_held"] == 0 and idle["master_outstanding_for_framework"] == 0
    return result


def trace_database(mode: str, postgres: PostgresServer | None, name: str) -> str | None:
    """A new, empty event trace database for one run (None: the trace off)."""
    if mode == "none":
        return None
    if mode == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='bench-trace-')}/trace.db"
    if mode == "postgresql" and postgres is not None:
        import psycopg

        with psycopg.connect(
            f"host={postgres.host} port={postgres.port} user=postgres dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return postgres.url.rsplit("/", 1)[0] + f"/{name}"
    raise SystemExit(f"--trace: unknown mode {mode!r} (none, sqlite, postgresql)")


def main() -> int:
    if sys.argv[1:2] == ["--local-mesos-child"]:
        return local_mesos_child(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="small CI smoke run (200 jobs, 10 s, burst 20x5)"
    )
    parser.add_argument(
        "--jobs", default="1000,10000", help="comma-separated job counts (default 1000,10000)"
    )
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="latency window per job count (default 60)"
    )
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--resources", default="cpus:1000;mem:1000000", help="per agent")
    parser.add_argument("--allocation-interval", type=float, default=0.05, help="local Mesos, seconds")
    parser.add_argument("--task-seconds", type=float, default=0.5, help="simulated task run time")
    parser.add_argument("--offer-hold", type=float, default=1.0, help="offer_hold_seconds setting")
    parser.add_argument("--burst-jobs", type=int, default=100)
    parser.add_argument("--burst-shards", type=int, default=10)
    parser.add_argument(
        "--precreate-running-nodes",
        action="store_true",
        help="create /state/running/{job} at registration (as after each job's first run)",
    )
    parser.add_argument("--profile", action="store_true", help="sample the engine thread's stack")
    parser.add_argument(
        "--mesos",
        choices=("process", "thread"),
        default="process",
        help="local Mesos in a child process (default) or in this process's threads",
    )
    parser.add_argument(
        "--floor-seconds",
        type=float,
        default=10.0,
        help="after each latency window, bare launch multis and ACCEPTs this long (0: none)",
    )
    parser.add_argument("--json", help="also write the summary to this file")
    parser.add_argument(
        "--trace", default="none", help="event trace per latency run: comma-separated none,sqlite,postgresql"
    )
    args = parser.parse_args()
    if args.quick:
        args.jobs, args.seconds, args.burst_jobs, args.burst_shards = "200", 10.0, 20, 5
        args.task_seconds = min(args.task_seconds, 0.2)
        args.floor_seconds = min(args.floor_seconds, 3.0)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)

    started = time.perf_counter()
    summary: dict[str, Any] = {
        "settings": {
            "agents": args.agents,
            "resources": args.resources,
            "allocation_interval": args.allocation_interval,
            "task_seconds": args.task_seconds,
            "offer_hold_seconds": args.offer_hold,
            "seconds": args.seconds,
            "precreate_running_nodes": args.precreate_running_nodes,
            "mesos": args.mesos,
        }
    }
    modes = args.trace.split(",")
    with ZooKeeperServer() as server, contextlib.ExitStack() as servers:
        postgres = servers.enter_context(PostgresServer()) if "postgresql" in modes else None
        summary["latency"] = [
            run_latency(server, args, int(n), (mode, trace_database(mode, postgres, f"j{n}")))
            for n in args.jobs.split(",")
            for mode in modes
        ]
        summary["burst"] = run_burst(server, args)
    summary["goals"] = goals(summary)
    summary["total_seconds"] = round(time.perf_counter() - started, 1)
    text = json.dumps(summary, indent=2)
    sys.stdout.write(text + "\n")
    sys.stdout.write("\n".join(human(summary)) + f"\ntotal: {summary['total_seconds']} s\n")
    sys.stdout.flush()
    if args.json:
        Path(args.json).write_text(text + "\n")
    runs = [*summary["latency"], summary["burst"]]
    broken = any(run.get("unlaunched_fires") or run["failed_tasks"] or run["stop_hung"] for run in runs)
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
