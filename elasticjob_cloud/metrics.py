"""Prometheus metrics of one scheduler instance (the only prometheus_client importer).

Two kinds of input, so the scheduler's hot path pays at most a counter increment:

* events, pushed by the parts that see them: the engine's listener (``engine_event``: launches and
  status updates), the producer's fire records (``fired``) and the ZooKeeper connection's operation
  timer (``zookeeper_operation``);
* a snapshot read at scrape time only (``add_source``): the leader's engine counters (offers,
  failovers, task states…), gauges (leader, suppressed, queue lengths, ZooKeeper connected). The
  engine already counts these in plain ints; nothing is done per event for them.

Counters stay monotonic across leaderships in one process: the counters of an engine that is no
longer the current one are folded into a base the moment a scrape notices the change (its values
are final then: that engine has stopped).

Every instance keeps its own ``CollectorRegistry`` (several stacks share one test process).
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

PREFIX = "elasticjob_cloud"
TERMINAL_STATES = frozenset(
    {"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED", "TASK_GONE"}
)
FAILURE_STATES = TERMINAL_STATES - {"TASK_FINISHED", "TASK_KILLED"}
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
ZK_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
PENDING_FIRES_PER_JOB = 16  # fire instants remembered per job until its launch (a backlog beyond: dropped)
SEEN_TERMINAL = 8192  # task IDs whose final state was counted (a resent update is not counted twice)

# (counter name in a Vitals snapshot, metric name, help)
ENGINE_COUNTERS = (
    ("offers_received", "offers_received_total", "Resource offers received from the Mesos master"),
    ("offers_declined", "offers_declined_total", "Resource offers declined (idle, or held too long)"),
    ("failovers", "failovers_total", "Shards queued for failover after their task failed or was lost"),
    ("launch_failures", "launch_failures_total", "Tasks whose LAUNCH the master did not take"),
    ("killed_by_scheduler", "kills_total", "Tasks the scheduler asked Mesos to kill"),
)


@dataclass
class Vitals:
    """What one scrape reads from the scheduler side (``mesos.vitals`` builds it)."""

    generation: object | None = None  # identifies the engine whose counters these are
    counters: dict[str, float] = field(default_factory=dict)  # cumulative within that engine
    task_states: dict[str, float] = field(default_factory=dict)  # status updates of tracked tasks, by state
    gauges: dict[str, tuple[str, float]] = field(default_factory=dict)  # name -> (help, value)


class _Folded:
    """Counters of engines that are gone, plus the current one's, as one monotonic total."""

    def __init__(self) -> None:
        self.base: dict[str, float] = defaultdict(float)
        self.states: dict[str, float] = defaultdict(float)
        self.current: object | None = None
        self.last: Vitals | None = None

    def update(self, vitals: Vitals) -> tuple[dict[str, float], dict[str, float]]:
        if self.last is not None and vitals.generation is not self.current:
            for key, value in self.last.counters.items():
                self.base[key] += value
            for key, value in self.last.task_states.items():
                self.states[key] += value
        self.current = vitals.generation
        self.last = vitals if vitals.generation is not None else None
        counters = dict(self.base)
        for key, value in vitals.counters.items():
            counters[key] = counters.get(key, 0.0) + value
        states = dict(self.states)
        for key, value in vitals.task_states.items():
            states[key] = states.get(key, 0.0) + value
        return counters, states


class Metrics:
    """The metrics of one scheduler instance and its ``/metrics`` exposition."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        # Counted in plain ints, each by one thread (fires: the producer's; launches and final
        # states: the engine's), and exposed at scrape time: an increment costs no lock.
        self._fires = {"fires": 0, "fires_missed": 0, "fires_refused": 0}
        self._launches = {"READY": 0, "FAILOVER": 0}
        self._terminal: dict[tuple[str, str], int] = {}
        self.fire_to_launch = Histogram(
            f"{PREFIX}_fire_to_launch_seconds",
            "From a cron instant to the LAUNCH of its run's first task",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.zk_latency = Histogram(
            f"{PREFIX}_zookeeper_operation_seconds",
            "ZooKeeper request latency, by operation",
            ["operation"],
            buckets=ZK_BUCKETS,
            registry=r,
        )
        self._zk: dict[str, Any] = {}
        # fire instants by job: appended by the producer's thread, taken by the engine's (deques are
        # thread-safe for that); only the producer's thread adds keys
        self._pending_fires: dict[str, deque[float]] = {}
        self._last_launch_round: dict[str, float] = {}
        self._seen_terminal: dict[str, None] = {}  # insertion-ordered; trimmed to the newest
        self._sources: list[Callable[[], Vitals]] = []
        self._folded: dict[int, _Folded] = {}
        self._scrape_lock = threading.Lock()
        self.trace_backlog: Callable[[], int | None] | None = None  # set once an event trace exists
        r.register(_ScrapeCollector(self))

    # ------------------------------------------------------------------ events
    def fired(self, record: Any) -> None:
        """A producer fire record (``producer.job_schedules.FireRecord``)."""
        kind = getattr(record.kind, "value", str(record.kind))
        counts = self._fires
        if record.missed:
            counts["fires_missed"] += record.missed
        if kind == "REFUSED":
            counts["fires_refused"] += 1
            return
        if kind in ("FIRE", "CATCH_UP") and record.runs:
            counts["fires"] += record.runs
            pending = self._pending_fires.get(record.job_name)
            if pending is None:
                pending = self._pending_fires[record.job_name] = deque(maxlen=PENDING_FIRES_PER_JOB)
            pending.append(record.instant)

    def engine_event(self, kind: str, payload: Any, now: float) -> None:
        """The engine's listener: ``("launch", [task IDs], now)`` and ``("status", status, now)``;
        ``("fire", record, at)`` from the producer's thread."""
        if kind == "status":
            self._status(payload)
        elif kind == "launch":
            self._launch(payload, now)
        elif kind == "fire":
            self.fired(payload)

    def _launch(self, task_ids: Iterable[str], now: float) -> None:
        launches = self._launches
        jobs: set[str] = set()
        for task_id in task_ids:
            parts = task_id.split("@-@")
            kind = parts[2] if len(parts) == 5 and parts[2] in launches else "READY"
            launches[kind] += 1
            if kind == "READY":
                jobs.add(parts[0])
        pending_fires, last_round = self._pending_fires, self._last_launch_round
        for job in jobs:
            pending = pending_fires.get(job)
            # one run of a job per round: its other agents' launches in this round are that run
            if pending and last_round.get(job) != now:
                try:
                    instant = pending.popleft()
                except IndexError:
                    continue
                last_round[job] = now
                self.fire_to_launch.observe(max(0.0, now - instant))

    def _status(self, status: dict[str, Any]) -> None:
        state = status.get("state")
        if state not in TERMINAL_STATES:
            return
        task_id = str(status.get("task_id", {}).get("value", ""))
        seen = self._seen_terminal
        if task_id in seen:
            return  # an update sent again (no acknowledgement yet): counted once
        seen[task_id] = None
        if len(seen) > 2 * SEEN_TERMINAL:
            self._seen_terminal = dict.fromkeys(list(seen)[-SEEN_TERMINAL:])
        key = (task_id.split("@-@", 1)[0], str(state))
        self._terminal[key] = self._terminal.get(key, 0) + 1

    def zookeeper_operation(self, operation: str, seconds: float) -> None:
        child = self._zk.get(operation)
        if child is None:
            child = self._zk[operation] = self.zk_latency.labels(operation)
        child.observe(seconds)

    # ------------------------------------------------------------------ scrape
    def add_source(self, source: Callable[[], Vitals]) -> None:
        self._sources.append(source)
        self._folded[id(source)] = _Folded()

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def _collect_sources(self) -> Iterator[Metric]:
        with self._scrape_lock:  # folding is not re-entrant: concurrent scrapes take turns
            return iter(list(self._read_sources()))

    def _read_sources(self) -> Iterator[Metric]:
        counters: dict[str, float] = defaultdict(float)
        states: dict[str, float] = defaultdict(float)
        gauges: dict[str, tuple[str, float]] = {}
        for source in self._sources:
            vitals = source()
            folded_counters, folded_states = self._folded[id(source)].update(vitals)
            for key, value in folded_counters.items():
                counters[key] += value
            for key, value in folded_states.items():
                states[key] += value
            gauges.update(vitals.gauges)
        for key, help_text in (
            ("fires", "Runs queued by the cron producer"),
            ("fires_missed", "Cron instants that fell while no producer ran"),
            ("fires_refused", "Fires refused: the ready queue was full"),
        ):
            family = CounterMetricFamily(f"{PREFIX}_{key}", help_text)
            family.add_metric([], self._fires[key])
            yield family
        launched = CounterMetricFamily(
            f"{PREFIX}_tasks_launched", "Tasks launched (LAUNCH taken by the master)", labels=["type"]
        )
        for kind, value in dict(self._launches).items():
            launched.add_metric([kind], value)
        yield launched
        terminated = CounterMetricFamily(
            f"{PREFIX}_job_tasks_terminated",
            "Tasks that reached a final state, by job and state",
            labels=["job", "state"],
        )
        for (job, state), value in sorted(dict(self._terminal).items()):
            terminated.add_metric([job, state], value)
        yield terminated
        for key, name, help_text in ENGINE_COUNTERS:
            family = CounterMetricFamily(f"{PREFIX}_{name.removesuffix('_total')}", help_text)
            family.add_metric([], counters.get(key, 0.0))
            yield family
        # The engine counts status updates by state and its run-policy events (retries, time-outs,
        # drops by deadline…) in one dict: Mesos task states are the TASK_* keys.
        states_family = CounterMetricFamily(
            f"{PREFIX}_task_status_updates", "Status updates of tracked tasks, by state", labels=["state"]
        )
        events_family = CounterMetricFamily(
            f"{PREFIX}_run_policy_events",
            "What the run policies did (retries, retries_exhausted, timed_out, replaced, "
            "runs_dropped_by_deadline, failovers_folded, dependency_runs_*)",
            labels=["event"],
        )
        for key, value in sorted(states.items()):
            family = states_family if key.startswith("TASK_") else events_family
            family.add_metric([key], value)
        yield states_family
        yield events_family
        for name, (help_text, value) in sorted(gauges.items()):
            gauge = GaugeMetricFamily(f"{PREFIX}_{name}", help_text)
            gauge.add_metric([], value)
            yield gauge
        try:
            backlog = self.trace_backlog() if self.trace_backlog is not None else None
        except Exception:  # a scrape reports what it can
            backlog = None
        if backlog is not None:
            gauge = GaugeMetricFamily(f"{PREFIX}_trace_backlog", "Trace events not yet written")
            gauge.add_metric([], backlog)
            yield gauge


class _ScrapeCollector:
    def __init__(self, metrics: Metrics):
        self._metrics = metrics

    def describe(self) -> list[Metric]:
        return []  # unchecked: names depend on what the sources report

    def collect(self) -> Iterator[Metric]:
        return self._metrics._collect_sources()
