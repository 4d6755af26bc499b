"""The engine's unschedulable marks: agent totals from the master, at a bounded rate (issue #12).

``core.fit`` decides; this keeps its inputs fresh without costing the launch path anything:

* the agents' totals come from the master's ``GET /master/slaves`` (each agent's ``resources``),
  fetched on a thread of its own, never on the engine's: at most once per ``SOONEST_SECONDS``, and
  only while runs are pending: first when there are, again when an offer names an agent the last
  answer did not list (an agent joined), and every ``REFRESH_SECONDS`` (agents left, or changed);
* while an offered agent is missing from the totals, no job is newly marked (marks may still go): a
  job must not be called unschedulable for lack of an agent that is already offering;
* each round judges the pending runs against the totals (one count per distinct shape), logs a
  WARNING once when a job becomes unschedulable, an INFO line when its mark goes, and the REST API,
  ``/health`` and ``/metrics`` read ``marked()``;
* the marks are published to ZooKeeper (``registry.unschedulable``) when they change and once when
  the engine starts judging, so a standby's REST API shows them too.

A run that fits is launched by the offers whatever its mark says; the mark only explains a wait.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from ..core.fit import Marks, Shape, Totals, Unfit
from ..core.models import AppConfig, JobConfig
from ..core.taskinfo import uses_command_executor
from ..exceptions import ElasticJobError, RegistryUnavailable
from .master_state import State, fetch_json

log = logging.getLogger(__name__)

REFRESH_SECONDS = 60.0  # the totals are fetched again this often while runs are pending
SOONEST_SECONDS = 5.0  # and never more often than this, whatever the offers say
FETCH_TIMEOUT = 5.0

FetchTotals = Callable[[str], Totals]  # master "host:port" → agent totals
Publish = Callable[[dict[str, dict[str, object]]], None]  # the marks, where every instance reads them


class PendingLike(Protocol):
    """What a pending run (``PendingRun``) tells about its size."""

    job: JobConfig
    items: tuple[int, ...]


def totals_of(slaves: State) -> dict[str, tuple[float, float]]:
    """``GET /master/slaves`` (or ``/state``: both list ``slaves``) → agent id → (cpus, mem) in all."""
    totals = {}
    for agent in slaves.get("slaves") or []:
        resources = agent.get("resources") or {}
        try:
            totals[str(agent["id"])] = (float(resources.get("cpus", 0.0)), float(resources.get("mem", 0.0)))
        except (KeyError, TypeError, ValueError):
            continue  # an entry without an id or with odd values: not an agent we can judge by
    return totals


def master_totals(master: str, timeout: float = FETCH_TIMEOUT) -> Totals:
    """The totals of every agent the master at ``host:port`` (or ``http://host:port``) knows."""
    base = master if "://" in master else f"http://{master}"
    return totals_of(fetch_json(base.rstrip("/") + "/master/slaves", timeout))


def shape_of(run: PendingLike, apps: Mapping[str, AppConfig]) -> Shape:
    """A pending run's needs, under ``matching``'s rules (the app's executor once per agent)."""
    job = run.job
    app = None if uses_command_executor(job) else apps.get(job.app_name)
    return Shape(
        job.cpu_count,
        job.memory_mb,
        len(run.items),
        app.cpu_count if app is not None else 0.0,
        app.memory_mb if app is not None else 0.0,
    )


class AgentFit:
    """Inert without ``fetch`` (no totals, no marks): the engine's unit tests run without a master."""

    def __init__(
        self,
        fetch: FetchTotals | None = None,
        wake: Callable[[], None] = lambda: None,
        publish: Publish | None = None,
    ):
        self.fetch = fetch
        self.wake = wake  # a refresh ended: the engine runs a round to judge again
        self.publish = publish
        self._published = False  # the marks as they are now are stored (see ``_publish``)
        self.marks = Marks()
        self.fetched_at: float | None = None  # the last attempt's start (engine time)
        self.fetches = 0  # attempts started (a bound the tests check)
        self._unknown: dict[str, float] = {}  # offered agents the totals lack → when first offered
        self._lock = threading.Lock()
        self._answer: tuple[Totals | None, str] | None = None  # set by the fetch thread
        self._fetching = False
        self._failing = False

    def saw_offers(self, offers: Iterable[Mapping[str, Any]], now: float) -> None:
        for offer in offers:
            agent = offer["agent_id"]["value"]
            if agent not in self.marks.totals:
                self._unknown.setdefault(agent, now)

    def check(
        self, runs: Iterable[PendingLike], apps: Mapping[str, AppConfig], master: str | None, now: float
    ) -> None:
        """One round: take a finished fetch, start one when due, judge the pending runs."""
        self._take_answer()
        runs = list(runs)
        if runs and master and self._due(now):
            self._start(master, now)
        # while an agent offers that the totals lack, no job is newly called unschedulable
        judged = ((run.job.job_name, shape_of(run, apps)) for run in runs)
        new, cleared = self.marks.update(judged, mark_new=not self._unknown)
        for mark in new:
            log.warning(
                "job %s is unschedulable: %s; its runs wait until such an agent joins (GET "
                "/api/job/tasks/unschedulable)",
                mark.job_name,
                mark.reason,
            )
        for name in cleared:
            log.info("job %s is no longer unschedulable", name)
        if new or cleared:
            self._published = False
        self._publish()

    def _publish(self) -> None:
        """Store the marks when they changed since last stored (first: whatever a dead leader left
        is replaced); ZooKeeper away: tried again next round."""
        if self._published or self.publish is None:
            return
        try:
            self.publish({name: mark.as_dict() for name, mark in self.marks.marked.items()})
            self._published = True
        except RegistryUnavailable as exc:
            log.info("unschedulable marks not published yet: %s", exc)

    def marked(self) -> dict[str, Unfit]:
        """The unschedulable jobs now (any thread: the dict is replaced, never changed in place)."""
        return self.marks.marked

    def _due(self, now: float) -> bool:
        if self._fetching or self.fetch is None:
            return False
        if self.fetched_at is None:
            return True
        waited = now - self.fetched_at
        return waited >= REFRESH_SECONDS or (waited >= SOONEST_SECONDS and bool(self._unknown))

    def _start(self, master: str, now: float) -> None:
        self._fetching = True
        self.fetched_at = now
        self.fetches += 1
        threading.Thread(target=self._fetch, args=(master,), name="agent-totals", daemon=True).start()

    def _fetch(self, master: str) -> None:
        assert self.fetch is not None
        try:
            answer: tuple[Totals | None, str] = (self.fetch(master), "")
        except ElasticJobError as exc:
            answer = (None, exc.message)
        except Exception as exc:  # a thread of its own: whatever happens is reported, not raised
            answer = (None, repr(exc))
        with self._lock:
            self._answer = answer
        self.wake()

    def _take_answer(self) -> None:
        with self._lock:
            answer, self._answer = self._answer, None
        if answer is None:
            return
        self._fetching = False
        totals, error = answer
        if totals is None:
            if not self._failing:
                log.warning(
                    "agent totals not read from the master (unschedulable runs not judged): %s", error
                )
            self._failing = True
            return
        if self._failing:
            log.info("agent totals read from the master again (%d agents)", len(totals))
        self._failing = False
        self.marks.set_totals(totals)
        # an agent offered before this fetch began and still not listed is gone already: not waited for
        started = self.fetched_at if self.fetched_at is not None else 0.0
        self._unknown = {a: at for a, at in self._unknown.items() if a not in totals and at > started}
