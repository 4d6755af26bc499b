"""The leader's scheduling engine: offers + ready/failover queues + desired daemons → LAUNCH, and
status updates → running state, failover, relaunch, kills. One thread runs it (``EngineLoop``).

Ordering that makes a leader change safe: a run is taken off its queue and its tasks are recorded
under ``/state/running`` in one ZooKeeper transaction *before* the LAUNCH is sent; a new leader loads
those records and reconciles them (explicit, then implicit) before it launches anything, so a shard
is never started twice. A LAUNCH the master never received puts its shards on the failover queue
(they never ran), so no run is lost either.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from ..core import paths
from ..core.planning import launch_order, pending_runs
from ..core.ports import NoTrace, ReadyTake, TraceSink
from ..core.taskdata import STOP_MESSAGE
from ..core.taskinfo import TaskInfos
from . import (
    engine_failover,
    engine_prepare,
    engine_reconciling,
    engine_timers,
    executor_versions,
    launch_fence,
)
from .agent_fit import AgentFit
from .catalog import Catalog, Changes
from .dependencies import DependencyTracker
from .engine_reconciling import RECONCILE_WAIT
from .engine_setup import Driver, EngineConfig, EngineStats, EngineStores, Listener
from .launch_commit import launch
from .offers import OfferBook
from .overrun import TimeLimits, replace_running
from .queued import QueuedRuns, drop_late_runs, drop_late_triggered
from .reconcile import Reconciliation
from .running import RunningTask, RunningTasks
from .statuses import StatusHandler
from .watched import WatchedQueue

log = logging.getLogger(__name__)

__all__ = ["RECONCILE_WAIT", "Driver", "Engine", "EngineConfig", "EngineStats", "EngineStores", "Listener"]


class Engine:
    """With its parts: ``engine_reconciling`` (the master's view of our tasks), ``engine_failover``
    (shards to run again, launches in doubt), ``engine_timers`` (what is due when, offers kept or
    declined), ``launch_commit`` (a launch round's writes and ACCEPTs), ``statuses`` (status
    updates). What is pending is decided in ``core.planning``; every write goes through the
    registry's ledger (``registry.ledger``) or a store, never as tree operations built here."""

    def __init__(
        self,
        registry: EngineStores,
        config: EngineConfig,
        next_fire: Callable[[], float | None] = lambda: None,
        listener: Listener | None = None,
        trace: TraceSink | None = None,
        fit: AgentFit | None = None,
    ):
        self.registry = registry
        self.fit = fit or AgentFit()  # runs that fit no agent's total: marked and logged (issue #12)
        self.trace: TraceSink = trace or NoTrace()  # the event trace: every call returns at once
        self.config = config
        self.next_fire = next_fire
        self.listener = listener
        self.catalog = Catalog(registry)
        self.running = RunningTasks()
        self.offers = OfferBook(config.offer_hold_seconds)
        self.task_infos = TaskInfos(
            config.executor_command, config.executor_idle_timeout_seconds, config.time_zone
        )
        self.stats = EngineStats()
        self.driver: Driver | None = None
        self.framework_id: str | None = None
        self.master: str | None = None
        self.subscribed = False
        self.suppressed = False
        self.awaiting: set[str] | None = None  # explicit reconciliation answers still expected
        self.reconcile_deadline = 0.0
        self.next_periodic: float | None = None
        self.dirty = True
        self.loaded = False
        # The failover queue is empty nearly always; with a watch on it (set up by the service), a
        # round reads it only after a change was reported, not on every round.
        self.failover_watched = False
        self._failover_changed = True
        self.failover_wake: float | None = None  # when the earliest backed-off failover may launch
        self.streaks: set[tuple[str, int]] = set()  # shards failed over more than once in a row
        self.executors: dict[str, set[tuple[str, str]]] = defaultdict(set)  # app -> {(executor, agent)}
        self.retired_executors: set[str] = set()  # old versions' executors sent STOP
        self.reconciliation = Reconciliation(config.reconcile_no_answer_seconds)
        self.queued = QueuedRuns()  # when each queued run was queued (priority order, deadlines)
        self.in_doubt: dict[str, float] = {}  # task → when its lost launch was fenced and asked about
        self.fence = launch_fence.LaunchFence()  # launches in doubt not yet fenced (see launch_fence)
        self.time_limits = TimeLimits()  # timeLimitSeconds of running tasks
        self.stall_logged: set[str] = set()  # tasks in doubt already logged as stalling their job
        self.writes = registry.ledger.writes()  # this event batch's state writes (see ``flush``)
        self.unprepared: set[str] = set()  # jobs of a full load whose TaskInfo parts wait (``timers``)
        self.unacknowledged: list[dict[str, Any]] = []  # acknowledged once their writes are in
        self.statuses = StatusHandler(self)
        self.triggered_runs = WatchedQueue(registry.triggered.entries)  # read once changed (service's watch)
        self.dependencies = DependencyTracker(self)  # issue #17: completed upstream runs → downstream runs
        # (executor, agent) of an app's executors as the master's /state lists them (set by the service)
        self.find_executors: Callable[[str], list[tuple[str, str]]] = lambda app: []

    # ------------------------------------------------------------------ subscription
    def on_registered(self, framework_id: str, master: str, now: float) -> None:
        """SUBSCRIBED, first time or again (pymesos says "reregistered" when it knew the ID)."""
        if framework_id:
            self.framework_id = framework_id
            self.registry.framework_id.save(framework_id)
        self.on_subscribed(master, now)

    def on_subscribed(self, master: str, now: float) -> None:
        log.info("subscribed to the Mesos master %s as framework %s", master, self.framework_id)
        self.master, self.subscribed = master, True
        self.offers.clear()  # offers of an earlier subscription are void
        # An earlier leader may have suppressed offers and a master may keep that across SUBSCRIBE:
        # start from a known state (the first idle round suppresses again).
        self.suppressed = not self.driver.revive() if self.driver is not None else True
        if not self.loaded:
            self._load_running()
        self.reconcile(explicit=True, now=now, blocking=True)
        if self.config.reconcile_interval_seconds > 0:
            self.next_periodic = now + self.config.reconcile_interval_seconds
        self.dirty = True

    def on_disconnected(self) -> None:
        log.warning("disconnected from the Mesos master")
        self.subscribed = False
        self.offers.clear()

    def _load_running(self) -> None:
        started = time.perf_counter()
        entries = self.registry.running.entries()
        job_nodes = self.registry.ledger.running_jobs()
        read = time.perf_counter()
        self.catalog.refresh()
        apps = {name: job.app_name for name, job in self.catalog.jobs.items()}
        self.running.load(entries, job_nodes, apps)
        self.streaks = self.registry.failover.streaks()
        self.dependencies.on_load()
        self.time_limits.check_at = 0.0  # the loaded tasks' limits count from now
        self.loaded = True
        prepared = time.perf_counter()
        engine_prepare.prepare(self, set(self.catalog.jobs))
        log.info(
            "loaded %d running tasks from ZooKeeper in %.2f s (reading them %.2f s, preparing %d jobs %.2f s)",
            len(self.running),
            time.perf_counter() - started,
            read - started,
            len(self.catalog.jobs),
            time.perf_counter() - prepared,
        )

    # ------------------------------------------------------------------ reconciliation, failover
    def reconcile(self, explicit: bool, now: float, blocking: bool = False) -> None:
        engine_reconciling.reconcile(self, explicit, now, blocking)

    def ask(self, tasks: list[tuple[str, str]], now: float) -> None:
        engine_reconciling.ask(self, tasks, now)

    def answered(self, task_id: str, now: float) -> None:
        engine_reconciling.answered(self, task_id, now)

    def on_agent_lost(self, agent_id: str, now: float) -> None:
        engine_reconciling.on_agent_lost(self, agent_id, now)

    def failover_changed(self, *_: Any) -> None:
        """Watch callback (any thread): the failover queue changed, or changes may have been missed."""
        self._failover_changed = True

    # ------------------------------------------------------------------ events
    def on_offers(self, offers: list[dict[str, Any]], now: float) -> None:
        self.stats.offers_received += len(offers)
        self.offers.add(offers, now)
        self.fit.saw_offers(offers, now)
        for offer in offers:
            agent = offer["agent_id"]["value"]
            for executor in offer.get("executor_ids", []) or []:
                app = executor_versions.app_of(executor["value"])
                if app and executor["value"] not in self.retired_executors:
                    self.executors[app].add((executor["value"], agent))
                    executor_versions.retire_if_stale(self, executor["value"], agent)
        self.dirty = True

    def kill(self, task: RunningTask, why: str) -> None:
        if task.killing or self.driver is None:
            return
        log.info("killing %s: %s", task.task_id, why)
        if self.driver.kill(task.task_id, task.agent_id):
            task.killing = True
            self.stats.killed_by_scheduler += 1

    def enforce(self, changes: Changes) -> None:
        """Kill tasks of jobs deregistered or disabled, restart updated DAEMON jobs, STOP deleted apps."""
        names = {t.job_name for t in self.running} if changes.full else changes.jobs
        for name in names:
            job = self.catalog.jobs.get(name)
            self.forget_job_node(name)
            for task in self.running.of_job(name):
                if job is None:
                    self.kill(task, "job deregistered")
                elif self.catalog.launchable(name) is None:
                    self.kill(task, "job or app disabled")
                elif job.is_daemon and task.config is not None and task.config != job:
                    self.kill(task, "daemon job updated: restarting it")
        for app in changes.removed_apps:
            self.stop_executors(app)

    def stop_executors(self, app: str) -> None:
        if self.driver is None:
            return
        executors = self.executors.pop(app, set())
        try:
            executors |= set(self.find_executors(app))
        except Exception as exc:  # the master's /state is a supplement: known executors still get STOP
            log.warning("looking up the executors of %s in the master's state failed: %s", app, exc)
        for executor, agent in sorted(executors):
            log.info("app %s deleted: sending STOP to %s", app, executor)
            self.driver.message(executor, agent, STOP_MESSAGE.encode())

    # ------------------------------------------------------------------ launch round
    def round(self, now: float) -> None:
        self.dirty = False
        changes = self.catalog.refresh()
        if changes and self.loaded:
            self.enforce(changes)
        engine_prepare.prepare(self, changes.jobs)
        if not self.subscribed or self.driver is None or self.awaiting is not None:
            return
        counters = self.registry.ready.counters(self.queued.wants_record(self.catalog.jobs))
        ready = {name: (counter.count, counter.version) for name, counter in counters.items()}
        self.queued.observe(ready, now, counters)
        ready = drop_late_runs(self, ready, now)
        triggered = drop_late_triggered(self, self.triggered_runs.entries(), now)
        replace_running(
            self, [n for n, (count, _) in ready.items() if count > 0] + [r.job_name for r in triggered]
        )
        engine_reconciling.log_stalls(self, ready)
        failover = engine_failover.entries(self)
        waiting = [e.not_before for e in failover if e.not_before > now]
        self.failover_wake = min(waiting, default=None)
        pending = pending_runs(
            ready,
            failover,
            self.catalog,
            self.running,
            now,
            triggered,
            self.queued.oldest,
        )
        unplaced = self._clear_orphans(pending.orphans, ready)
        if pending.runs:
            if self.suppressed and self.driver.revive():
                self.suppressed = False
            runs = launch_order(pending.runs, self.queued.oldest)
            unplaced = (launch(self, runs, now) if len(self.offers) else True) or unplaced
        self.fit.check(pending.runs if unplaced else [], self.catalog.apps, self.master, now)
        engine_timers.settle_offers(self, now, unplaced)
        self._count_writes()

    def _clear_orphans(self, names: list[str], ready: dict[str, tuple[int, int]]) -> bool:
        """Ready marks of jobs that do not exist are deleted (as the original), but only after a fresh
        read: the catalog may simply not have seen a job registered a moment ago. True when such a
        job turned up (its run is pending: keep the offers)."""
        unseen = False
        for name in names:
            if self.registry.config.get_job(name) is not None:
                self.catalog.mark(paths.job(name))
                self.dirty = unseen = True
            else:
                count, version = ready[name]
                self.writes.drop_ready(ReadyTake(name, count, version), max(count, 1))
        return unseen

    def forget_job_node(self, job_name: str) -> None:
        """Delete ``/state/running/{job}`` once a deregistered job has no task left."""
        if (
            job_name in self.running.job_nodes
            and job_name not in self.catalog.jobs
            and not self.running.is_job_running(job_name)
        ):
            self.running.job_nodes.discard(job_name)
            self.writes.forget_job(job_name)

    def finish(self, task: RunningTask) -> None:
        """``task`` runs no more: out of the running state, its record deleted with the next flush."""
        if self.running.remove(task.task_id) is not None:
            self.writes.finish_task(task.job_name, task.item, task.record)

    # ------------------------------------------------------------------ timers and writes
    def next_deadline(self) -> float | None:
        return engine_timers.next_deadline(self)

    def timers(self, now: float) -> None:
        engine_timers.timers(self, now)

    def flush(self) -> None:
        """Commit the queued running-state writes in one pipelined batch, then acknowledge the status
        updates that caused them (not before: a crash in between must make the agent resend them)."""
        self.writes.flush()
        self._count_writes()
        if not self.writes and self.driver is not None:
            statuses, self.unacknowledged = self.unacknowledged, []
            for status in statuses:
                self.driver.acknowledge(status)
        self.dependencies.after_flush()

    def _count_writes(self) -> None:
        self.stats.zk_transactions = self.registry.ledger.transactions
        self.stats.zk_ops = self.registry.ledger.ops
