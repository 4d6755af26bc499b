"""One launch round's side effects: offers matched, tasks built, ZooKeeper written, LAUNCH sent.

Per placed run, one transaction takes the run off its queue (the guarded ready decrement or the
failover entry) and records its tasks under ``/state/running``; the transactions go out packed in a
few multis (``registry.grouped``: each run still applies alone or not at all), and only the runs
whose transaction applied are launched (one ACCEPT per agent, pipelined). A run whose transaction
failed (its counter moved, ZooKeeper is away) is simply tried next round.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from ..core import paths
from ..core.matching import group_offers, match
from ..core.ports import LaunchedTask
from ..exceptions import AlreadyExists, NotFound
from ..registry.grouped import commit_groups
from ..registry.tree import Create, Op
from . import executor_versions
from .launch_plan import PendingRun, avoid_agents, new_task_id
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
    batches: list[list[Op]] = []
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
            tasks.append((task, info))
            traced[task.task_id] = (run.original_task_ids.get(item, ""), run.job.is_daemon)
        # a job's first run creates its /state/running/{job} node in the same transaction
        parent: list[Op] = []
        if engine.running.needs_job_node(run.job.job_name):
            parent = [Create(paths.running_job(run.job.job_name))]
        batches.append(
            run.consume + parent + [op for task, _ in tasks for op in engine.running.add_ops(task)]
        )
        prepared.append(tasks)
    results = commit_groups(engine.registry.tree, batches) if batches else []
    engine.stats.zk_transactions += len(batches)
    engine.stats.zk_ops += sum(len(b) for b in batches)
    by_agent: dict[str, list[tuple[RunningTask, dict[str, Any]]]] = defaultdict(list)
    for tasks, error in zip(prepared, results, strict=True):
        if error is not None:  # the queue moved under us, or ZooKeeper is away: next round
            log.info("launch of %s deferred: %s", tasks[0][0].job_name, error)
            if isinstance(error, NotFound):  # perhaps the job node went: re-created next time
                engine.running.job_nodes.discard(tasks[0][0].job_name)
            elif isinstance(error, AlreadyExists):  # it was there after all (an earlier leader's)
                engine.running.job_nodes.add(tasks[0][0].job_name)
            engine.dirty = True
            continue
        engine.running.job_nodes.add(tasks[0][0].job_name)
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
            engine.doubt([t for t, _ in launches], now)
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
    return bool(plan.unplaced) or any(error is not None for error in results)


def _address(offer: dict[str, Any]) -> tuple[str, str]:
    """The agent's hostname and IP as its offer gives them (``url.address`` in Mesos v1)."""
    address = (offer.get("url") or {}).get("address") or {}
    return str(offer.get("hostname", "")), str(address.get("ip", ""))


def _failed(engine: Engine, tasks: list[RunningTask], now: float) -> None:
    """The master never got them: they never ran, so they go back as failover shards."""
    engine.stats.launch_failures += len(tasks)
    for task in tasks:
        _, ops = engine.running.remove(task.task_id)
        engine.pending_ops.extend(ops)
        engine.add_failover(task, now)
    engine.dirty = True
