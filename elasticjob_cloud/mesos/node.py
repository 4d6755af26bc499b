"""One scheduler instance's role in the cluster: standby, or the leader running ``SchedulerService``.

The election itself lives in ``registry.election`` (ZooKeeper); the composition root wires its
callbacks to :meth:`SchedulerNode.elected` / :meth:`SchedulerNode.revoked`, which it calls on one
thread, never concurrently. This class is also the REST layer's ``SchedulerControl``: leader-only
operations asked of a standby raise ``NotLeader`` with the leader's URL (307 there, 503 without one).
A leader that is still starting its service (the election names it, ``service`` is not up yet) answers
503 "starting": a 307 would send the client to this very instance, in a loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ..core.models import TaskId
from ..core.ports import TraceSink
from ..exceptions import ElasticJobError, MesosUnavailable, NotLeader
from ..registry.warm import WarmJobs
from ..settings import Settings, effective_time_zone
from . import master_state, task_output
from .catalog import WATCHED
from .engine import Listener
from .service import SchedulerService, SchedulerStores

log = logging.getLogger(__name__)


class SchedulerNode:
    def __init__(
        self,
        settings: Settings,
        registry: SchedulerStores,
        webui_port: int,
        leader_identity: Callable[[], str | None] = lambda: None,
        zookeeper_state: Callable[[], str] = lambda: "unknown",
        listener: Listener | None = None,
        clock: Callable[[], float] = time.time,
        trace: TraceSink | None = None,
    ):
        self.settings = settings
        self.trace = trace
        self.registry = registry
        self.webui_port = webui_port
        self.leader_identity = leader_identity
        self.zookeeper_state = zookeeper_state
        self.listener = listener
        self.clock = clock
        self.identity: str | None = None  # this instance's ``host:port`` in the election, once known
        self.service: SchedulerService | None = None
        self._starting = False
        self._lock = threading.Lock()
        self.leaderships = 0
        # the stores one leadership writes through (the composition root fences them with the
        # election node: ``registry.fencing``); None: ``registry`` itself
        self.leadership_stores: Callable[[], SchedulerStores] | None = None
        # asked by the Mesos driver before each SUBSCRIBE (the composition root: the election's
        # confirmation with ZooKeeper); None: always
        self.subscribe_guard: Callable[[], bool] | None = None
        self._warm: list[Callable[[], None]] = []
        self.warm_jobs: WarmJobs | None = None

    def keep_warm(self) -> None:
        """Keep the caches of what the engine's catalog and the producer watch (every job's config,
        the disable marks) while standing by: elected, their watches join these at once instead of
        first reading and watching every node (6.5 s of a takeover at 10,000 jobs; see README). And
        every job's config decoded (``registry.warm``): their first loads take them from there."""
        try:
            self._warm = [self.registry.tree.watch(root, _ignore) for root in WATCHED]
            zone = effective_time_zone(self.settings)
            self.warm_jobs = WarmJobs(self.registry.tree, self.registry.config, zone=zone).start()
        except ElasticJobError as exc:  # not needed to lead: the leader's own watches build them
            log.warning("job catalog caches not kept warm on this instance: %s", exc)

    # ------------------------------------------------------------ election callbacks
    def elected(self) -> None:
        with self._lock:
            if self.service is not None:
                return
            log.info("elected leader: starting the producer, the engine and the Mesos driver")
            self._starting = True
            try:
                stores = self.leadership_stores() if self.leadership_stores else self.registry
                self.service = SchedulerService(
                    self.settings,
                    stores,
                    self.webui_port,
                    self.listener,
                    self.clock,
                    self.trace,
                    self.subscribe_guard,
                    self.warm_jobs,
                ).start()
                self.leaderships += 1
            except Exception:
                log.exception("starting the scheduler as leader failed")
                self.service = None
            finally:
                self._starting = False

    def revoked(self) -> None:
        with self._lock:
            service, self.service = self.service, None
        if service is not None:
            log.warning("leadership lost: stopping the scheduler (tasks keep running)")
            service.stop()

    def halt_driver(self) -> None:
        """ZooKeeper suspended or lost while leading (kazoo's thread; must not block): the driver
        stops acting at once; ``revoked`` follows on the election's thread and stops the rest."""
        service = self.service
        if service is not None:
            log.warning("ZooKeeper connection suspended or lost: halting the Mesos driver")
            service.halt_driver()

    def stop(self) -> None:
        self.revoked()
        warm, self._warm = self._warm, []
        warm_jobs, self.warm_jobs = self.warm_jobs, None
        if warm_jobs is not None:
            warm_jobs.stop()
        for unwatch in warm:
            try:
                unwatch()
            except Exception:
                log.exception("closing a catalog cache failed")

    # ------------------------------------------------------------ SchedulerControl
    def role(self) -> str:
        if self.service is not None:
            return "leader"
        return "starting" if self._starting else "standby"

    def leader_url(self) -> str | None:
        identity = self.leader_identity()
        return f"http://{identity}" if identity else None

    def health(self) -> dict[str, Any]:
        service = self.service
        return {
            "role": self.role(),
            "leader": self.leader_url(),
            "zookeeper": self.zookeeper_state(),
            "mesos": service.status() if service is not None else None,
        }

    def _leader(self) -> SchedulerService:
        service = self.service
        if service is None:
            identity = self.leader_identity()
            if self._starting or (identity is not None and identity == self.identity):
                raise NotLeader("this scheduler was elected leader and is still starting; retry shortly")
            url = f"http://{identity}" if identity else None
            raise NotLeader("this scheduler is a standby" + (f"; the leader is {url}" if url else ""), url)
        return service

    def reconcile(self, explicit: bool) -> None:
        self._leader().reconcile(explicit)

    def idle_task_ids(self) -> set[str]:
        """DAEMON tasks waiting for their next fire, as the leader's engine knows them from the
        executor's BEGIN/COMPLETE messages; empty on a standby (it has no engine)."""
        service = self.service
        if service is None:
            return set()
        engine = service.engine
        for _ in range(10):  # read from a REST thread: retried if the engine changes the maps meanwhile
            try:
                jobs = engine.catalog.jobs
                return {
                    task.task_id
                    for task in engine.running
                    if task.idle and (job := jobs.get(task.job_name)) is not None and job.is_daemon
                }
            except RuntimeError:
                continue
        return set()

    def unschedulable(self) -> dict[str, dict[str, object]]:
        """Jobs whose runs no agent can hold, as the leader's engine judged them in its last round
        (``core.fit``); a standby reads what the leader published (``registry.unschedulable``)."""
        service = self.service
        if service is None:
            return self.registry.unschedulable.read()
        return {name: mark.as_dict() for name, mark in service.engine.fit.marked().items()}

    def sandbox(self, app_name: str) -> list[dict[str, str]]:
        service = self._leader()
        engine = service.engine
        if not engine.master or not engine.framework_id:
            return []
        return master_state.sandbox(f"http://{engine.master}", engine.framework_id, app_name)

    def task_output(self, task_id: str, file: str, length: int) -> dict[str, object]:
        """The tail of a task's ``stdout``/``stderr`` through its agent (leader only)."""
        engine = self._leader().engine
        if not engine.master or not engine.framework_id:
            raise MesosUnavailable("not subscribed to a Mesos master yet")
        agent_id = TaskId.parse(task_id).agent_id
        return task_output.read_tail(
            f"http://{engine.master}", engine.framework_id, task_id, agent_id, file, length
        )


def _ignore(path: str | None) -> None:
    """The warm caches' own subscriber: the caches are what is kept, not the events."""
