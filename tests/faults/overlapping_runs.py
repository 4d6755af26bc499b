"""The checker's rule for jobs whose runs may overlap (``concurrencyPolicy`` ALLOW; pure).

Such a job's runs are not consecutive blocks in time, so they are not cut from the executions
(``checker.cut_runs``): each execution is put in its run by what the scheduler recorded in
ZooKeeper (``zkhistory.JobHistory``): a READY task belongs to the run its launch transaction
recorded; a FAILOVER task to the run of the task it runs again (the value of the failover entry its
launch transaction took), followed back to a READY task. Then per run and shard:

* exactly one completed execution: none is ``lost`` (failover=true), two are ``doubled`` unless the
  later one runs again a task whose end the scheduler could not see (the same "indeterminate" rule
  as for other jobs: ``checker.unseen_ends``), then it is listed in ``reran_indeterminate``;
* executions of one run's shard overlapping each other are ``overlapping`` (a shard run twice at
  once); executions of the same shard in different runs may overlap: counted, not a violation;
* an execution of a task no launch recorded is ``unrecorded``;
* runs against cron instants as for other jobs (more runs than instants is doubled; misfire=true:
  fewer than instants beyond the folding allowance is lost).

A lost shard whose last task ended (its running record deleted) while a failover entry of the same
shard, for another run's task, was waiting and that never got an entry of its own is also listed in
``lost_to_one_entry_per_shard``: the known limit of one failover node per shard (README).
"""

from __future__ import annotations

from collections import defaultdict

from tests.faults.checker import Execution, JobVerdict, overlaps, unseen_ends
from tests.faults.zkhistory import JobHistory

# how long before its running record went a lost task's failover entry was asked for (the engine
# queues the failover, then flushes the record's delete with the batch)
ASKED_BEFORE_FINISH = 2.0


def check_overlapping(
    job: str,
    shards: int,
    executions: list[Execution],
    history: JobHistory,
    instants: int,
    allowed_missing: int,
    failover: bool,
    misfire: bool,
    open_end: float,
    killed_at: dict[str, float] | None = None,
    agent_died: dict[str, tuple[float, float]] | None = None,
    declared_lost: set[str] | None = None,
    folded: set[str] | None = None,
) -> JobVerdict:
    """Arguments as ``checker.check_transient``, with the job's recorded ``history``; ``folded``: the
    tasks whose failover a scheduler logged as folded into a waiting entry of their shard (when
    given, a loss counts as the known limit only for such a task)."""
    verdict = JobVerdict(job, executions=len(executions), instants=instants, allowed_missing=allowed_missing)
    verdict.killed = sum(1 for e in executions if e.end is None)
    unseen = unseen_ends(executions, killed_at, agent_died, declared_lost)
    groups: dict[tuple[int, int], list[Execution]] = defaultdict(list)
    for e in sorted(executions, key=lambda x: x.start):
        run = history.run_of.get(e.task_id)
        if run is None:
            verdict.unrecorded.append(f"{e.task_id} from {e.start:.3f}: no launch recorded it")
            continue
        groups[(run, e.shard)].append(e)
    verdict.runs = len(history.runs)
    for (run, _), items in sorted(groups.items()):
        verdict.overlapping.extend(f"run {run}: {found}" for found in overlaps(items))
    verdict.shard_overlaps_across_runs = _across_runs(groups)
    verdict.runs_overlapping = _runs_overlapping(groups)
    for number, launched in enumerate(history.runs):
        mine = [e for (run, _), items in groups.items() if run == number for e in items]
        still_going = launched.time >= open_end or any(e.start >= open_end for e in mine)
        for shard in range(shards):
            done = [e for e in groups.get((number, shard), []) if e.end is not None]
            for again in done[1:]:
                if _reruns_unseen_end(done[0], again, unseen, history):
                    when, why = unseen[done[0].task_id]
                    verdict.reran_indeterminate.append(
                        f"run {number} shard {shard}: {done[0].task_id} ended at {done[0].end:.3f}, {why} "
                        f"at {when:.3f} before its end was seen; failed over as {again.task_id}"
                    )
                else:
                    verdict.doubled.append(
                        f"run {number} shard {shard}: again as {again.task_id} at {again.start:.3f}"
                        f" after {done[0].task_id}"
                    )
            if not done and failover and not still_going:
                lost = f"run {number} (launched {launched.time:.3f}): shard {shard} never completed"
                verdict.lost.append(lost)
                if _one_entry_per_shard(history, number, shard, folded):
                    verdict.lost_to_one_entry_per_shard.append(lost)
    if verdict.runs > instants:
        verdict.doubled.append(f"{verdict.runs} runs for {instants} cron instants")
    if misfire and verdict.runs < instants - allowed_missing:
        verdict.lost.append(f"{verdict.runs} runs for {instants} instants ({allowed_missing} may fold)")
    return verdict


def _reruns_unseen_end(
    first: Execution, again: Execution, unseen: dict[str, tuple[float, str]], history: JobHistory
) -> bool:
    """``again`` runs ``first``'s task again (through one or more failovers), and ``first`` ended
    before the moment its end may have gone unseen, ``again`` starting after it."""
    found = unseen.get(first.task_id)
    if found is None or first.end is None or first.end > found[0] or again.start < found[0]:
        return False
    task: str | None = again.task_id
    while task is not None:
        task = history.failover_of.get(task)
        if task == first.task_id:
            return True
    return False


def _one_entry_per_shard(history: JobHistory, run: int, shard: int, folded: set[str] | None) -> bool:
    """The run's shard was lost because its failover entry could not be added: its last task's
    record went while an entry of the shard for another task waited, none was added for it, and
    (``folded`` given) the scheduler said it folded that task's failover into the waiting one."""
    chain = [t for t, r in history.run_of.items() if r == run and _item(t) == shard]
    originals = set(history.failover_of.values())
    with_entry = {original for _, original, _, _ in history.failover_entries}
    for task in (t for t in chain if t not in originals):  # the chain's last task
        ended = history.finished_at.get(task)
        if task in with_entry or ended is None or (folded is not None and task not in folded):
            continue
        for item, original, created, taken in history.failover_entries:
            waiting = created <= ended and (taken is None or taken >= ended - ASKED_BEFORE_FINISH)
            if item == shard and original != task and waiting:
                return True
    return False


def _item(task_id: str) -> int:
    return int(task_id.split("@-@")[1])


def _across_runs(groups: dict[tuple[int, int], list[Execution]]) -> int:
    """Completed executions that started while the same shard of another run was running."""
    by_shard: dict[int, list[tuple[Execution, int]]] = defaultdict(list)
    for (run, shard), items in groups.items():
        by_shard[shard].extend((e, run) for e in items if e.end is not None)
    count = 0
    for items in by_shard.values():
        for e, run in items:
            others = (p for p, r in items if r != run and p.start <= e.start)
            count += any(p.end is not None and p.end > e.start for p in others)
    return count


def _runs_overlapping(groups: dict[tuple[int, int], list[Execution]]) -> int:
    """Runs that started while an earlier run of the job still had an execution going."""
    spans: dict[int, tuple[float, float]] = {}
    for (run, _), items in groups.items():
        start = min(e.start for e in items)
        end = max(e.end if e.end is not None else e.start for e in items)
        was = spans.get(run)
        spans[run] = (min(start, was[0]), max(end, was[1])) if was else (start, end)
    count, latest_end = 0, float("-inf")
    for start, end in sorted(spans.values()):
        if start < latest_end:
            count += 1
        latest_end = max(latest_end, end)
    return count
