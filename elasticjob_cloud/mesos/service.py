"""What the elected leader runs: the cron producer, the engine's loop and the Mesos driver.

Started on leadership, stopped when it is lost. Stopping never tears the framework down: the driver
stops with ``failover=True``, so Mesos keeps every task running for the next leader, which finds
them under ``/state/running`` and in the master's reconciliation answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from ..core import paths
from ..core.ports import NoTrace, TraceSink
from ..producer.schedule import ProducerStores
from ..producer.service import ProducerService
from ..registry.unschedulable import UnschedulableMarks
from ..registry.warm import WarmJobs
from ..settings import Settings, effective_time_zone
from . import master_state
from .agent_fit import AgentFit, master_totals
from .driver import MesosDriver
from .engine import Engine, EngineConfig, EngineStores, Listener
from .events import Inbox
from .framework import framework_info, master_address
from .loop import EngineLoop

log = logging.getLogger(__name__)


class SchedulerStores(EngineStores, ProducerStores, Protocol):
    """Everything the leader's parts use (``registry.Registry`` is the implementation)."""

    unschedulable: UnschedulableMarks


def engine_config(settings: Settings) -> EngineConfig:
    return EngineConfig(
        executor_command=settings.executor_command,
        executor_idle_timeout_seconds=settings.executor_idle_timeout_seconds,
        time_zone=effective_time_zone(settings),
        offer_hold_seconds=settings.offer_hold_seconds,
        unreachable_grace_seconds=settings.unreachable_grace_seconds,
        reconcile_interval_seconds=settings.reconcile_interval_minutes * 60.0,
        reconcile_no_answer_seconds=settings.reconcile_no_answer_seconds,
    )


class SchedulerService:
    def __init__(
        self,
        settings: Settings,
        registry: SchedulerStores,
        webui_port: int,
        listener: Listener | None = None,
        clock: Callable[[], float] = time.time,
        trace: TraceSink | None = None,
        may_subscribe: Callable[[], bool] | None = None,
        warm: WarmJobs | None = None,
    ):
        self.settings = settings
        self.registry = registry
        self.webui_port = webui_port
        self.may_subscribe = may_subscribe  # asked before every SUBSCRIBE (see ``driver``)
        self.inbox = Inbox()
        self.listener = listener
        self.trace: TraceSink = trace or NoTrace()
        self.producer = ProducerService(registry, effective_time_zone(settings), listener=self._fired)
        fit = AgentFit(master_totals, self.inbox.wake, registry.unschedulable.publish)
        self.engine = Engine(registry, engine_config(settings), self._next_fire, listener, self.trace, fit)
        self.engine.find_executors = self._app_executors
        self.engine.catalog.warm = warm  # the standby's decoded configs (``registry.warm``)
        self.producer.producer.warm = warm
        self.loop = EngineLoop(self.engine, self.inbox, clock)
        self.driver: MesosDriver | None = None
        self._unwatch: list[Callable[[], None]] = []

    def _fired(self, record: Any) -> None:
        """A fire was written: a launch round soon; the listener sees it as ``("fire", record, at)``,
        the event trace records it."""
        self.inbox.wake()
        if self.listener is not None:
            self.listener("fire", record, record.written_at)
        self.trace.fired(
            record.job_name, str(record.kind), record.instant, record.runs, record.missed,
            record.ready_count, record.written_at,
        )  # fmt: skip

    def _failover_changed(self, path: str | None) -> None:
        self.engine.failover_changed(path)
        self.inbox.wake()

    def _triggered_changed(self, path: str | None) -> None:
        self.engine.triggered_runs.changed(path)  # runs triggered with parameters (issue #17)
        self.inbox.wake()

    def _next_fire(self) -> float | None:
        return self.producer.producer.next_due

    def _app_executors(self, app_name: str) -> list[tuple[str, str]]:
        """Executors of the app the master knows (idle ones too, which the engine may never have seen)."""
        master, framework_id = self.engine.master, self.engine.framework_id
        if not master or not framework_id:
            return []
        state = master_state.fetch_state(master, timeout=2.0)
        return [
            (e.executor_id, e.agent_id) for e in master_state.app_executors(state, framework_id, app_name)
        ]

    def start(self) -> SchedulerService:
        """Watch first, then load (in the first round): no change falls between the two."""
        started = time.perf_counter()
        try:
            self._unwatch = self.engine.catalog.watch(self.inbox.wake)
            # Children only: the producer in this process wakes the engine on its fires, a child
            # watch covers triggers from other instances, and a count raised on an existing node
            # is a run of a job still queued or running, whose next status wakes the engine anyway.
            # (A subtree cache re-read every new ready node on the engine's own ZooKeeper session,
            # queueing the round's reads behind ~330 requests a second at 10,000 jobs.)
            self._unwatch.append(self.registry.tree.watch_children(paths.READY, self.inbox.wake))
            self._unwatch.append(self.registry.tree.watch(paths.FAILOVER, self._failover_changed))
            self._unwatch.append(self.registry.tree.watch(paths.TRIGGERED, self._triggered_changed))
            self.engine.failover_watched = self.engine.triggered_runs.watched = True
            watched = time.perf_counter()
            framework = framework_info(self.settings, self.registry.framework_id.get(), self.webui_port)
            self.driver = MesosDriver(
                framework,
                master_address(self.settings.mesos_url),
                self.inbox,
                may_subscribe=self.may_subscribe,
            )
            self.engine.driver = self.driver
            self.loop.start()
            self.producer.start()
            self.driver.start()
        except BaseException:
            self.stop()
            raise
        log.info(
            "scheduler started (framework %s) in %.2f s, %.2f s of it setting up the watches",
            framework.get("id", {}).get("value", "new"),
            time.perf_counter() - started,
            watched - started,
        )
        return self

    def stop(self) -> None:
        """Producer, then engine (no launch may start after), then the driver with failover=True."""
        self.producer.stop()
        self.loop.stop()
        if self.driver is not None:
            self.driver.stop(failover=True)
        for unwatch in self._unwatch:
            try:
                unwatch()
            except Exception:
                log.exception("closing a watch failed")
        self._unwatch = []

    def halt_driver(self) -> None:
        """The leadership may be gone: the driver's event stream ends now (non-blocking)."""
        if self.driver is not None:
            self.driver.halt()

    def reconcile(self, explicit: bool) -> None:
        self.inbox.put("reconcile", explicit)

    def status(self) -> dict[str, Any]:
        engine = self.engine
        return {
            "subscribed": engine.subscribed,
            "master": engine.master,
            "frameworkId": engine.framework_id,
            "reconciling": engine.awaiting is not None,
            "suppressed": engine.suppressed,
            "offersHeld": len(engine.offers),
            "runningTasks": len(engine.running),
            # asked about with no answer yet: their jobs' next runs wait (issue #12)
            "unansweredTasks": len(engine.reconciliation),
            # jobs whose runs no agent the master knows can hold (issue #12)
            "unschedulableJobs": len(engine.fit.marked()),
            "engineAlive": self.loop.alive,
        }
