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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..core import paths
from ..core.models import TaskId, TaskType
from ..core.ports import FailoverEntry, NoTrace, TraceSink
from ..core.taskdata import STOP_MESSAGE
from ..core.taskinfo import TaskInfos
from ..core.transitions import failover_delay
from ..exceptions import AlreadyExists, ElasticJobError, NotFound, RegistryUnavailable
from ..registry.dependencies import DependencyStore
from ..registry.grouped import commit_groups
from ..registry.stores import FailoverQueue, FrameworkIdStore, ReadyQueue, RunningStore
from ..registry.tree import Create, Delete, Op, SetData
from ..registry.triggers import TriggeredRuns
from . import executor_versions
from .agent_fit import AgentFit
from .catalog import Catalog, CatalogStores, Changes
from .dependencies import DependencyTracker
from .launch_commit import launch
from .launch_plan import launch_order, pending_runs
from .offers import BUSY_REFUSE_SECONDS, IDLE_REFUSE_SECONDS, OfferBook
from .overrun import TimeLimits, replace_running
from .queued import QueuedRuns, drop_late_runs, drop_late_triggered
from .reconcile import Reconciliation
from .running import RunningTask, RunningTasks
from .statuses import StatusHandler
from .watched import WatchedQueue

log = logging.getLogger(__name__)

# The longest a new leader waits for explicit reconciliation answers before launching. Unanswered
# tasks stay running in its view (their shards wait, and they are asked again), so waiting longer
# protects nothing more; after a master failover with an agent that never comes back it held every
# job back (10 s before).
RECONCILE_WAIT = 3.0
# TaskInfo parts prepared at once for up to this many (re)loaded jobs; a full load's are prepared
# this many a loop step once launching can start (10,000 took ~0.5-1.5 s, before a new leader's
# first launch; a launch of a job not prepared yet prepares its own).
PREPARE_AT_ONCE = 500


class Driver(Protocol):
    def launch_many(
        self, launches: Sequence[tuple[Sequence[str], list[dict[str, Any]]]], refuse_seconds: float
    ) -> Iterator[bool | None]:
        """One ACCEPT per (offer IDs, TaskInfos), in order as answered: taken (True), refused or never
        sent (False), or in doubt (None: sent, but its answer was lost)."""
        ...

    def decline(self, offer_ids: list[str], refuse_seconds: float) -> bool: ...
    def suppress(self) -> bool: ...
    def revive(self) -> bool: ...
    def kill(self, task_id: str, agent_id: str) -> bool: ...
    def reconcile(self, tasks: list[tuple[str, str]]) -> bool: ...
    def message(self, executor_id: str, agent_id: str, data: bytes) -> bool: ...
    def acknowledge(self, status: dict[str, Any]) -> bool: ...


class EngineStores(CatalogStores, Protocol):
    """The part of ``registry.Registry`` the engine uses (typed here so kazoo stays out of reach)."""

    ready: ReadyQueue
    failover: FailoverQueue
    running: RunningStore
    framework_id: FrameworkIdStore
    triggered: TriggeredRuns
    dependencies: DependencyStore


@dataclass(frozen=True)
class EngineConfig:
    executor_command: str = "elasticjob-cloud-executor"
    executor_idle_timeout_seconds: float = 600.0
    time_zone: str = "UTC"
    offer_hold_seconds: float = 1.0
    unreachable_grace_seconds: float = 300.0
    reconcile_interval_seconds: float = 0.0  # <= 0: no periodic reconciliation
    # a task whose explicit reconciliation is unanswered this long counts as unreachable since it
    # was first asked (then lost unreachable_grace_seconds after that first ask)
    reconcile_no_answer_seconds: float = 60.0
    # a launch whose ACCEPT answer was lost and that the master has not answered about this long
    # counts as never launched: its shards are queued again
    launch_doubt_seconds: float = 30.0


@dataclass
class EngineStats:
    launched: int = 0
    launch_failures: int = 0
    launches_in_doubt: int = 0  # tasks whose ACCEPT answer was lost (asked about, not repeated)
    finished: int = 0
    failed: int = 0
    failovers: int = 0
    killed_by_scheduler: int = 0
    offers_received: int = 0
    offers_declined: int = 0
    zk_transactions: int = 0
    zk_ops: int = 0
    counters: dict[str, int] = field(default_factory=lambda: defaultdict(int))


Listener = Callable[[str, Any, float], None]  # ("launch", [task ids], now), ("status", status dict, now)


class Engine:
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
        self.in_doubt: dict[str, float] = {}  # task → when its launch's answer was lost (asked since)
        self.time_limits = TimeLimits()  # timeLimitSeconds of running tasks
        self.stall_logged: set[str] = set()  # tasks in doubt already logged as stalling their job
        self.pending_ops: list[Op] = []
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
        job_nodes = self.registry.tree.children(paths.RUNNING)
        read = time.perf_counter()
        self.catalog.refresh()
        apps = {name: job.app_name for name, job in self.catalog.jobs.items()}
        self.running.load(entries, job_nodes, apps)
        self.streaks = self.registry.failover.streaks()
        self.dependencies.on_load()
        self.time_limits.check_at = 0.0  # the loaded tasks' limits count from now
        self.loaded = True
        prepared = time.perf_counter()
        self._prepare(set(self.catalog.jobs))
        log.info(
            "loaded %d running tasks from ZooKeeper in %.2f s (reading them %.2f s, preparing %d jobs %.2f s)",
            len(self.running),
            time.perf_counter() - started,
            read - started,
            len(self.catalog.jobs),
            time.perf_counter() - prepared,
        )

    # ------------------------------------------------------------------ reconciliation
    def reconcile(self, explicit: bool, now: float, blocking: bool = False) -> None:
        """Explicit: ask for every task we think runs (then implicit when the answers are in)."""
        if self.driver is None or not self.subscribed:
            return
        if not explicit:
            self.driver.reconcile([])
            return
        tasks = [(t.task_id, t.agent_id) for t in self.running]
        if tasks:
            self.ask(tasks, now)
        if blocking and tasks:
            self.awaiting = {t for t, _ in tasks}
            self.reconcile_deadline = now + RECONCILE_WAIT
        else:
            self.driver.reconcile([])

    def ask(self, tasks: list[tuple[str, str]], now: float) -> None:
        """Explicit reconciliation of ``tasks``, asked again with backoff until answered (see
        ``reconcile.py``: a master may stay silent about a task on an agent it recovered)."""
        if self.driver is not None and self.subscribed:
            self.driver.reconcile(tasks)
        self.reconciliation.ask(tasks, now)

    def answered(self, task_id: str, now: float) -> None:
        self.reconciliation.answered(task_id)
        if self.awaiting is not None:
            self.awaiting.discard(task_id)
            self._finish_reconciling(now)

    def on_agent_lost(self, agent_id: str, now: float) -> None:
        """FAILURE for an agent (slaveLost): its offers are void and its tasks are asked about. After
        a master failover, an agent recovered from the registry that never came back is reported
        this way only, with no update for its tasks (``MasterTest.UnreachableTaskAfterFailover``)."""
        self.offers.drop_agent(agent_id)
        tasks = [(t.task_id, t.agent_id) for t in self.running if t.agent_id == agent_id]
        if tasks:
            log.warning("agent %s lost: reconciling its %d task(s)", agent_id, len(tasks))
            self.ask(tasks, now)

    def _reconcile_again(self, now: float) -> None:
        """Unanswered tasks: asked again when due; past ``reconcile_no_answer_seconds`` they count as
        unreachable since they were first asked (their grace period runs from then)."""
        pending = self.reconciliation
        for task_id in [t for t in pending.task_ids() if self.running.get(t) is None]:
            pending.forget(task_id)
        for task_id, first in pending.overdue(now):
            task = self.running.get(task_id)
            if task is None:
                continue
            if task.unreachable_since is None or first < task.unreachable_since:
                task.unreachable_since = first
            log.warning(
                "no reconciliation answer for task %s of job %s (shard %s, agent %s) in %.0f s: treated "
                "as unreachable; lost at %s unless the master answers",
                task.task_id,
                task.job_name,
                task.item,
                task.agent_id,
                now - first,
                _clock(first + self.config.unreachable_grace_seconds),
            )
        due = pending.due(now)
        if due and self.driver is not None and self.subscribed:
            self.driver.reconcile(due)

    def _log_stalls(self, ready: dict[str, tuple[int, int]]) -> None:
        """A job whose queued runs wait for a task the master has not confirmed is stalled: said
        once per such task, with when it will count as lost (the queue is ``/api/job/tasks/ready``)."""
        for name, entry in ready.items():
            if entry[0] <= 0 or not self.running.is_job_running(name):
                continue
            for task in self.running.of_job(name):
                in_doubt = task.unreachable_since is not None or task.task_id in self.reconciliation
                if not in_doubt or task.task_id in self.stall_logged:
                    continue
                if len(self.stall_logged) > 10_000:
                    self.stall_logged.clear()
                self.stall_logged.add(task.task_id)
                since = task.unreachable_since
                until = (
                    f"it counts as lost at {_clock(since + self.config.unreachable_grace_seconds)}"
                    if since is not None
                    else "waiting for the master's answer"
                )
                log.warning(
                    "job %s stalled: %d queued run(s) wait for its task %s on agent %s, in doubt (%s)",
                    name,
                    entry[0],
                    task.task_id,
                    task.agent_id,
                    until,
                )

    def _finish_reconciling(self, now: float) -> None:
        if self.awaiting is not None and (not self.awaiting or now >= self.reconcile_deadline):
            if self.awaiting:
                log.warning(
                    "no reconciliation answer for %d task(s) yet; launching the other jobs, asking again",
                    len(self.awaiting),
                )
            self.awaiting = None
            if self.driver is not None:
                self.driver.reconcile([])
            self.enforce(Changes(jobs={t.job_name for t in self.running}))
            self.dirty = True

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
        self._prepare(changes.jobs)
        if not self.subscribed or self.driver is None or self.awaiting is not None:
            return
        ready = self.registry.ready.snapshot()
        self.queued.observe(ready, now)
        ready = drop_late_runs(self, ready, now)
        triggered = drop_late_triggered(self, self.triggered_runs.entries(), now)
        replace_running(
            self, [n for n, (count, _) in ready.items() if count > 0] + [r.job_name for r in triggered]
        )
        self._log_stalls(ready)
        failover = self._failover_entries()
        waiting = [e.not_before for e in failover if e.not_before > now]
        self.failover_wake = min(waiting, default=None)
        pending = pending_runs(
            ready,
            failover,
            self.catalog,
            self.running,
            self.registry.ready.take_op,
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
        self._settle_offers(now, unplaced)

    def _prepare(self, names: set[str]) -> None:
        """Do now, off the path of their next fire, what the first launch of (re)loaded jobs needs:
        their TaskInfo parts and, once the running state is loaded, their ``/state/running/{job}``
        node (a first launch would otherwise create it in its own transaction: one op more per run)."""
        missing = []
        later = len(names) > PREPARE_AT_ONCE
        for name in names:
            job = self.catalog.jobs.get(name)
            app = self.catalog.apps.get(job.app_name) if job is not None else None
            if job is not None and app is not None:
                if later:
                    self.unprepared.add(name)
                else:
                    self.task_infos.warm(job, app)
            if job is not None and self.loaded and self.running.needs_job_node(name):
                missing.append(name)
        if not missing:
            return
        try:
            results = commit_groups(self.registry.tree, [[Create(paths.running_job(n))] for n in missing])
        except RegistryUnavailable as exc:  # not needed for launching: a first launch creates it
            log.info("running nodes of %d jobs not created ahead: %s", len(missing), exc)
            return
        for name, error in zip(missing, results, strict=True):
            if error is None or isinstance(error, AlreadyExists):
                self.running.job_nodes.add(name)
            elif not isinstance(error, RegistryUnavailable):  # a launch creates it then
                log.info("running node of %s not created ahead: %s", name, error)

    def _prepare_later(self) -> bool:
        """Whether a slice of ``unprepared`` is due: once launching can start, between rounds."""
        return bool(self.unprepared) and self.loaded and self.awaiting is None and not self.dirty

    def _prepare_slice(self) -> None:
        for _ in range(min(PREPARE_AT_ONCE, len(self.unprepared))):
            job = self.catalog.jobs.get(self.unprepared.pop())
            app = self.catalog.apps.get(job.app_name) if job is not None else None
            if job is not None and app is not None:
                self.task_infos.warm(job, app)

    def failover_changed(self, *_: Any) -> None:
        """Watch callback (any thread): the failover queue changed, or changes may have been missed."""
        self._failover_changed = True

    def _failover_entries(self) -> list[FailoverEntry]:
        if self.failover_watched and not self._failover_changed:
            return []  # read empty since, and no change reported
        self._failover_changed = False  # before the read: a change during it is reported again
        try:
            entries = self.registry.failover.entries()
        except Exception:
            self._failover_changed = True
            raise
        if entries:
            self._failover_changed = True  # taken by a later transaction; read again until empty
        return entries

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
                self.pending_ops.append(Delete(paths.ready(name), ready[name][1]))
        return unseen

    def forget_job_node(self, job_name: str) -> None:
        """Delete ``/state/running/{job}`` once a deregistered job has no task left."""
        if (
            job_name in self.running.job_nodes
            and job_name not in self.catalog.jobs
            and not self.running.is_job_running(job_name)
        ):
            self.running.job_nodes.discard(job_name)
            self.pending_ops.append(Delete(paths.running_job(job_name)))

    def add_failover(self, task: RunningTask, now: float) -> None:
        """Queue the shard to run again: at once the first time, later each time it is failed over
        again in a row (its task was itself a failover launch), so a shard whose every task is lost
        cannot relaunch in a tight loop; the streak is kept in ZooKeeper for the next leader."""
        if self.running.at(task.job_name, task.item) is not None:
            return  # that shard runs again already
        self._failover_changed = True
        try:
            attempt = 1
            if _task_type(task.task_id) is TaskType.FAILOVER:
                attempt = max(self.registry.failover.streak(task.job_name, task.item), 1) + 1
            delay = failover_delay(attempt)
            entry = FailoverEntry(task.job_name, task.item, task.task_id, attempt, now + delay)
            if self.registry.failover.add(entry):
                self.stats.failovers += 1
                if attempt > 1:
                    self.streaks.add(task.shard)
                    log.warning(
                        "shard %s of %s failed over %d times in a row: the next try in %.0f s",
                        task.item,
                        task.job_name,
                        attempt,
                        delay,
                    )
        except ElasticJobError as exc:
            log.error("shard %s of %s could not be queued for failover: %s", task.item, task.job_name, exc)
        self.dirty = True

    def doubt(self, tasks: list[RunningTask], now: float) -> None:
        """An ACCEPT's answer was lost: the master may have launched ``tasks`` or not. They stay
        recorded as running (their shards wait) and the master is asked about them; they are
        launched again only when it answers that it does not know them, or after
        ``launch_doubt_seconds`` without an answer (see ``StatusHandler`` and ``timers``)."""
        self.stats.launches_in_doubt += len(tasks)
        for task in tasks:
            self.in_doubt[task.task_id] = now
        log.warning(
            "the answer to the launch of %d task(s) (%s) was lost: asking the master before launching "
            "them again",
            len(tasks),
            ", ".join(t.task_id for t in tasks[:3]) + (" ..." if len(tasks) > 3 else ""),
        )
        self.ask([(t.task_id, t.agent_id) for t in tasks], now)

    def never_launched(self, task: RunningTask, now: float, why: str) -> None:
        """A launch in doubt that did not happen: its shard is queued again as the same run, whether
        or not its job fails over (it never ran, so nothing of it may be lost)."""
        self.in_doubt.pop(task.task_id, None)
        log.warning(
            "task %s of job %s shard %s was never launched (%s): queued again",
            task.task_id,
            task.job_name,
            task.item,
            why,
        )
        _, ops = self.running.remove(task.task_id)
        self.pending_ops.extend(ops)
        self.reconciliation.forget(task.task_id)
        if self.catalog.launchable(task.job_name) is not None:  # not for a job gone or disabled since
            self.add_failover(task, now)
        self.forget_job_node(task.job_name)
        self.dirty = True

    def _expire_doubt(self, now: float) -> None:
        for task_id, since in list(self.in_doubt.items()):
            task = self.running.get(task_id)
            if task is None:
                self.in_doubt.pop(task_id)
            elif now - since >= self.config.launch_doubt_seconds:
                self.never_launched(task, now, f"no answer from the master in {now - since:.0f} s")

    def end_streak(self, task: RunningTask) -> None:
        """A shard with a failover streak ran to its end: its next failover starts again at once."""
        if task.shard not in self.streaks:
            return
        try:
            self.registry.failover.end_streak(task.job_name, task.item)
            self.streaks.discard(task.shard)
        except ElasticJobError as exc:
            log.warning("failover streak of %s shard %s not cleared: %s", task.job_name, task.item, exc)

    def _settle_offers(self, now: float, unplaced: bool) -> None:
        if self.driver is None:
            return
        upcoming = self.next_fire()
        imminent = upcoming is not None and upcoming - now <= self.config.offer_hold_seconds
        if unplaced or imminent:
            return  # held; each offer at most offer_hold_seconds (see timers)
        declined = self.offers.clear()
        if declined:
            self.driver.decline(declined, IDLE_REFUSE_SECONDS)
            self.stats.offers_declined += len(declined)
        if not self.suppressed and self.driver.suppress():
            self.suppressed = True

    # ------------------------------------------------------------------ timers and writes
    def next_deadline(self) -> float | None:
        candidates = [
            self.offers.next_expiry(),
            self.next_periodic,
            self.failover_wake,
            self.reconciliation.next_deadline(),
            self.queued.next_expiry(self.catalog.jobs),
            self.time_limits.check_at,
        ]
        if self.awaiting is not None:
            candidates.append(self.reconcile_deadline)
        if self.in_doubt:
            candidates.append(min(self.in_doubt.values()) + self.config.launch_doubt_seconds)
        grace = [t.unreachable_since for t in self.running if t.unreachable_since is not None]
        if grace:
            candidates.append(min(grace) + self.config.unreachable_grace_seconds)
        if self.suppressed and (upcoming := self.next_fire()) is not None:
            candidates.append(upcoming - self.config.offer_hold_seconds)
        if self._prepare_later():
            candidates.append(0.0)  # due now: the next step prepares a slice
        return min((c for c in candidates if c is not None), default=None)

    def timers(self, now: float) -> None:
        expired = self.offers.expired(now)
        if expired and self.driver is not None:
            self.driver.decline(expired, BUSY_REFUSE_SECONDS)
            self.stats.offers_declined += len(expired)
        if self.awaiting is not None:
            self._finish_reconciling(now)
        if self.next_periodic is not None and now >= self.next_periodic:
            self.next_periodic = now + self.config.reconcile_interval_seconds
            self.reconcile(explicit=True, now=now)
        self._reconcile_again(now)
        self._expire_doubt(now)
        self.statuses.expire_grace(now)
        self.time_limits.enforce(self, now)
        expiry = self.queued.next_expiry(self.catalog.jobs)
        if expiry is not None and now >= expiry:
            self.dirty = True  # a queued run reached its starting deadline: the round drops it
        if self.failover_wake is not None and now >= self.failover_wake:
            self.failover_wake = None  # a backed-off failover is due: the round reads the queue again
            self._failover_changed = self.dirty = True
        upcoming = self.next_fire()
        imminent = upcoming is not None and upcoming - now <= self.config.offer_hold_seconds
        if self.suppressed and imminent and self.driver is not None and self.driver.revive():
            self.suppressed = False  # offers will be there by the fire
        if self._prepare_later():
            self._prepare_slice()

    def flush(self) -> None:
        """Commit the queued running-state writes in one pipelined batch, then acknowledge the status
        updates that caused them (not before: a crash in between must make the agent resend them)."""
        ops, self.pending_ops = self.pending_ops, []
        if ops:
            self._commit(ops)
        if not self.pending_ops and self.driver is not None:
            statuses, self.unacknowledged = self.unacknowledged, []
            for status in statuses:
                self.driver.acknowledge(status)
        self.dependencies.after_flush()

    def _commit(self, ops: list[Op]) -> None:
        results = commit_groups(self.registry.tree, [[op] for op in ops])
        self.stats.zk_transactions += len(ops)
        self.stats.zk_ops += len(ops)
        for op, error in zip(ops, results, strict=True):
            if error is None or isinstance(error, NotFound):
                continue
            if isinstance(error, AlreadyExists):  # a stale record of the same shard: overwrite it
                self.registry.tree.commit([SetData(op.path, getattr(op, "data", b""))])
            elif isinstance(error, RegistryUnavailable):
                self.pending_ops.append(op)  # retried after the next event
                log.warning("running-state write %s failed: %s", op.path, error)
            else:  # e.g. a job node that got a new child, or a ready mark that moved: nothing to do
                log.info("running-state write %s skipped: %s", op.path, error)


def _task_type(task_id: str) -> TaskType | None:
    try:
        return TaskId.parse(task_id).task_type
    except ValueError:
        return None


def _clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))
