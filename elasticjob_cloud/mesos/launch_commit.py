"""One launch round's side effects: offers matched, tasks built, ZooKeeper written, LAUNCH sent.

Per placed run, one transaction takes the run off its queue (the guarded ready decrement or the
failover entry) and records its tasks under ``/state/running`` (the registry's ledger writes it:
``LaunchRecord``); the transactions go out packed in a few multis, each run still applied alone or not
at all, and only the runs whose transaction applied are launched (one ACCEPT per agent, pipelined).
A run whose transaction failed (its counter moved, ZooKeeper is away) is simply tried next round.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from ..core.matching import group_offers, match
from ..core.models import TaskId, TaskType
from ..core.planning import PendingRun, avoid_agents
from ..core.ports import LaunchedTask, LaunchRecord, RunningEntry
from . import engine_failover, executor_versions
from .running import RunningTask

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger(__name__)


def launch(engine: Engine, runs: list[PendingRun], now: float) -> bool:
    """Place and launch what fits; True when some work is left unplaced."""
    agents = group_offers(engine.offers.offers(), lambda eid: executor_versions.current_app(engine, eid))
    cost = {name: (app.cpu_count, app.memory_mb) for name, app in engine.catalog.apps.items()}
    plan = match([run.request(avoid_agents(run)) for run in runs], agents, cost)
    offered = defaultdict(list)
    addresses: dict[str, tuple[str, str]] = {}  # agent → (hostname, IP) for the event trace
    for offer in engine.offers.offers():
        offered[offer["agent_id"]["value"]].extend(offer.get("resources", []))
        addresses[offer["agent_id"]["value"]] = _address(offer)
    placed: dict[tuple[str, int], str] = {
        (p.shard.job_name, p.shard.sharding_item): p.agent_id for p in plan.placements
    }
    records: list[LaunchRecord] = []
    traced: dict[str, tuple[str, bool]] = {}  # task → (the task it fails over, daemon) for the trace
    prepared: list[list[tuple[RunningTask, dict[str, Any]]]] = []
    for run in runs:
        if (run.job.job_name, run.items[0]) not in placed:
            continue
        app = engine.catalog.apps[run.job.app_name]
        tasks = []
        for item in run.items:
            agent = placed[(run.job.job_name, item)]
            task_id = new_task_id(run.job.job_name, item, run.task_type, agent, run.run_id)
            info = engine.task_infos.build(run.job, app, task_id, offered[agent])
            executor = info["executor"]["executor_id"]["value"] if "executor" in info else None
            task = RunningTask(str(task_id), run.job.job_name, item, agent, app.app_name, executor, run.job)
            # the shard's own record, or the task's own when another run's task holds it (ALLOW);
            # two of a round asking for one shard's record: the second transaction fails, retried
            task.record = engine.running.record_for(run.job.job_name, item, task.task_id)
            tasks.append((task, info))
            traced[task.task_id] = (run.original_task_ids.get(item, ""), run.job.is_daemon)
        # a job's first run creates its /state/running/{job} node in the same transaction
        entries = tuple(RunningEntry(t.job_name, t.item, t.task_id, t.record) for t, _ in tasks)
        records.append(LaunchRecord(run.take, entries, engine.running.needs_job_node(run.job.job_name)))
        prepared.append(tasks)
    results = engine.registry.ledger.record_launches(records) if records else []
    by_agent: dict[str, list[tuple[RunningTask, dict[str, Any]]]] = defaultdict(list)
    for tasks, result in zip(prepared, results, strict=True):
        job_name = tasks[0][0].job_name
        if result.job_node is True:
            engine.running.job_nodes.add(job_name)
        elif result.job_node is False:  # it went (or never was): created by the next launch
            engine.running.job_nodes.discard(job_name)
        if result.error is not None:  # the queue moved under us, or ZooKeeper is away: next round
            log.info("launch of %s deferred: %s", job_name, result.error)
            engine.dirty = True
            continue
        for task, info in tasks:
            engine.running.add(task)
            by_agent[task.agent_id].append((task, info))
    targets = list(by_agent)
    for agent in targets:
        engine.offers.take(plan.used_offer_ids[agent])
    calls = [(plan.used_offer_ids[agent], [info for _, info in by_agent[agent]]) for agent in targets]
    taken = engine.driver.launch_many(calls, 0.0) if engine.driver is not None else iter([False] * len(calls))
    for agent, accepted in zip(targets, taken, strict=True):
        launches = by_agent[agent]
        if accepted is None:  # the answer was lost: asked about before anything is repeated
            engine_failover.doubt(engine, [t for t, _ in launches], now, plan.used_offer_ids[agent])
        elif accepted:
            engine.stats.launched += len(launches)
            for task, _ in launches:
                limit = task.config.policy.time_limit_seconds if task.config is not None else None
                engine.time_limits.launched(task.task_id, limit, now)
                if task.executor_id:
                    engine.executors[task.app_name].add((task.executor_id, agent))
            if engine.listener is not None:
                engine.listener("launch", [t.task_id for t, _ in launches], now)
            host, ip = addresses.get(agent, ("", ""))
            engine.trace.launched(
                [
                    LaunchedTask(t.task_id, host, ip, traced[t.task_id][1], traced[t.task_id][0])
                    for t, _ in launches
                ],
                now,
            )
        else:
            _failed(engine, [t for t, _ in launches], now)
    return bool(plan.unplaced) or any(result.error is not None for result in results)


def new_task_id(
    job_name: str, item: int, task_type: TaskType, agent_id: str, run_id: str | None = None
) -> TaskId:
    """A fresh UUID as the last part, or the run ID of a run triggered with parameters."""
    return TaskId(job_name, item, task_type, agent_id, run_id or str(uuid.uuid4()))


def _address(offer: dict[str, Any]) -> tuple[str, str]:
    """The agent's hostname and IP as its offer gives them (``url.address`` in Mesos v1)."""
    address = (offer.get("url") or {}).get("address") or {}
    return str(offer.get("hostname", "")), str(address.get("ip", ""))


def _failed(engine: Engine, tasks: list[RunningTask], now: float) -> None:
    """The master never got them: they never ran, so they go back as failover shards."""
    engine.stats.launch_failures += len(tasks)
    for task in tasks:
        engine.finish(task)
        engine_failover.add_failover(engine, task, now)
    engine.dirty = True
