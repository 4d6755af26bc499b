"""What the fault campaign proves, from what the jobs recorded and what the API answered (pure).

Executions: every job process appends ``S <epoch> <pid> <shard JSON>`` when it starts and ``E …``
when it ends to one append-only log (a line under PIPE_BUF is written whole). The shard JSON is
what the scheduler handed the job: job name, task ID (``job@-@shard@-@READY|FAILOVER@-@agent@-@uuid``)
and shard. The scheduler does not tell a job which cron instant it runs for, so fires are checked
by count against the cron instants of the campaign window.

Per TRANSIENT job, runs are cut from the executions: a run's shards are launched together and the
next run of the job is launched only once no task of it runs and its failover entries are gone, so
a READY execution starting after every execution seen so far has ended opens a new run and a
FAILOVER execution belongs to the run being repaired (``cut_runs``). Then:

* doubled: a shard executed again in a run while an earlier execution of it in that run completed
  or was still going (a shard run twice for one fire), or more runs than cron instants;
* overlapping: two executions of one shard whose time ranges intersect;
* lost: (failover=true) a run in which some shard never completed; (misfire=true) fewer runs than
  cron instants beyond what the documented start-up rule allows (a leader that takes over settles
  the instants missed while no leader was up with ONE catch-up run: README, "The cron producer");
* jobs whose runs may overlap (``concurrencyPolicy`` ALLOW) are not cut by time: their runs come
  from what the scheduler recorded in ZooKeeper (``overlapping_runs``, ``zkhistory``);
* API writes: each answer constrains the job's state (exists, disabled, description); a 2xx must
  have applied, a 4xx must not, a 5xx or no answer either fully or not at all; the final stored
  state must be one the sequence allows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

DELIMITER = "@-@"
# how long before its agent died a task's end may still have been on its way to the scheduler: the
# agent forwards TASK_FINISHED at once (STARTING/RUNNING are acknowledged on arrival), through the
# master's stream and the scheduler's status thread, which a loaded machine delays by up to ~1 s
IN_FLIGHT = 1.0


@dataclass
class Execution:
    job: str
    shard: int
    task_id: str
    pid: int
    start: float
    end: float | None = None  # None: the process never reported its end (killed)

    @property
    def kind(self) -> str:
        return self.task_id.split(DELIMITER)[2]


def read_executions(lines: Iterable[str]) -> list[Execution]:
    started: dict[tuple[str, int], Execution] = {}
    found: list[Execution] = []
    for line in lines:
        try:
            mark, stamp, pid, payload = line.split(" ", 3)
            shard = json.loads(payload)
            key = (shard["taskId"], int(pid))
        except (ValueError, KeyError):
            continue  # a torn line of a process killed while writing
        if mark == "S":
            execution = Execution(
                shard["jobName"], int(shard["shardingItem"]), shard["taskId"], int(pid), float(stamp)
            )
            started[key] = execution
            found.append(execution)
        elif mark == "E" and key in started:
            started.pop(key).end = float(stamp)
    return sorted(found, key=lambda e: e.start)


@dataclass
class Run:
    executions: list[Execution] = field(default_factory=list)
    busy_until: float = 0.0


def cut_runs(executions: list[Execution], late: float = 1.5) -> list[Run]:
    """An execution of a shard the current run already has (completed, or READY again), starting
    once every execution of the run so far has ended, opens the next run, and so does a READY
    execution starting more than ``late`` seconds after the run's first one (a shard whose
    executor started late is within that; a shard of the next run is not, the next run coming a
    cron period later); anything else belongs to the current run (a late shard, a FAILOVER re-run
    of a lost shard, or a second execution: flagged by the caller). A FAILOVER execution after a
    completed one opens a run too: the READY launch of that run was lost before any shard started
    (say, its ACCEPT was dropped), so its shards run as FAILOVER only. A failover of a task that in
    fact completed looks the same and is caught by the count of runs against cron instants."""
    runs: list[Run] = []
    for e in sorted(executions, key=lambda x: x.start):
        current = runs[-1] if runs else None
        again = current is not None and any(
            p.shard == e.shard and (e.kind == "READY" or p.end is not None) for p in current.executions
        )
        later = current is not None and e.kind == "READY" and e.start - current.executions[0].start > late
        if current is None or ((again or later) and e.start >= current.busy_until):
            runs.append(Run())
        run = runs[-1]
        run.executions.append(e)
        run.busy_until = max(run.busy_until, e.end if e.end is not None else e.start)
    return runs


@dataclass
class JobVerdict:
    job: str
    executions: int = 0
    runs: int = 0
    instants: int = 0
    allowed_missing: int = 0
    doubled: list[str] = field(default_factory=list)
    overlapping: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    killed: int = 0
    # FAILOVER re-runs of an execution whose process the nemesis killed after it wrote its end
    # (between its last line and its exit): Mesos saw the task killed, not finished
    reran_indeterminate: list[str] = field(default_factory=list)
    # concurrencyPolicy ALLOW only (``overlapping_runs``): runs that overlapped an earlier run of the
    # job, executions of a shard overlapping one of another run (both allowed), executions the
    # scheduler never recorded in ZooKeeper (a violation), and those of ``lost`` that are the known
    # limit of one failover entry per shard (README, "Run policies")
    runs_overlapping: int = 0
    shard_overlaps_across_runs: int = 0
    unrecorded: list[str] = field(default_factory=list)
    lost_to_one_entry_per_shard: list[str] = field(default_factory=list)


def check_transient(
    job: str,
    shards: int,
    executions: list[Execution],
    instants: int,
    allowed_missing: int,
    failover: bool,
    misfire: bool,
    open_end: float,
    late: float = 1.5,
    killed_at: dict[str, float] | None = None,
    agent_died: dict[str, tuple[float, float]] | None = None,
    declared_lost: set[str] | None = None,
) -> JobVerdict:
    """``instants``: cron instants in the window; ``allowed_missing``: instants the start-up rule may
    fold into one catch-up run; ``open_end``: executions starting after it may still be going;
    ``late``: see ``cut_runs`` (under the cron period); ``killed_at``: task ID → when the nemesis
    SIGKILLed that task's process group (a command task's executor ID is its task ID).

    An execution killed after it wrote its end line but before its process exited has an
    indeterminate outcome: the job did its work, Mesos saw a task killed by a signal (TASK_FAILED
    from the executor), which is a loss the scheduler fails over. Its shard's next execution, when a
    FAILOVER, is that failover: listed in ``reran_indeterminate``, left out of the runs (it is still
    checked for overlaps). Anything else run twice is ``doubled``.

    ``agent_died``: task ID → (start, end) of the fault in which the task's agent died (removed, or
    its machine lost with the master restarting). A task that ended within ``IN_FLIGHT`` seconds
    before that, or during it, is indeterminate the same way: its TASK_FINISHED was still on its way
    (or the master was down) and went with the agent, Mesos reports the task lost (at once for a
    removed agent, after ``agent_reregister_timeout`` and the grace period for a lost machine) and
    the scheduler fails it over. For a misfire=false job that lone FAILOVER otherwise opens a run of
    its own and the other shards look lost there.

    ``declared_lost``: the tasks the scheduler logged as ended otherwise than finished (lost, failed,
    grace expired); when given, only those count as indeterminate: the timing alone would also take
    the failover of a later task of the shard (one that died before its start line) for the re-run
    of one whose end the scheduler did see."""
    verdict = JobVerdict(job, executions=len(executions), instants=instants, allowed_missing=allowed_missing)
    verdict.killed = sum(1 for e in executions if e.end is None)
    verdict.overlapping = overlaps(executions)
    unseen = unseen_ends(executions, killed_at, agent_died, declared_lost)
    executions = _without_reruns_of_indeterminate(executions, unseen, verdict)
    runs = cut_runs(executions, late)
    verdict.runs = len(runs)
    for number, run in enumerate(runs):
        seen: dict[int, list[Execution]] = defaultdict(list)
        for e in run.executions:
            earlier = seen[e.shard]
            if any(p.end is not None for p in earlier):
                verdict.doubled.append(f"run {number}: shard {e.shard} again as {e.task_id} at {e.start:.3f}")
            earlier.append(e)
        last = number == len(runs) - 1 and run.busy_until >= open_end
        if failover and not last:
            for shard in range(shards):
                if not any(e.end is not None for e in seen.get(shard, [])):
                    started = min((e.start for e in run.executions), default=0.0)
                    verdict.lost.append(f"run {number} (from {started:.3f}): shard {shard} never completed")
    if verdict.runs > instants:
        verdict.doubled.append(f"{verdict.runs} runs for {instants} cron instants")
    if misfire and verdict.runs < instants - allowed_missing:
        verdict.lost.append(f"{verdict.runs} runs for {instants} instants ({allowed_missing} may fold)")
    return verdict


def unseen_ends(
    executions: list[Execution],
    killed_at: dict[str, float] | None,
    agent_died: dict[str, tuple[float, float]] | None,
    declared_lost: set[str] | None,
) -> dict[str, tuple[float, str]]:
    """Task → (when, why) for the tasks whose end the scheduler may not have seen (see
    ``check_transient``): killed by the nemesis, or ended just before their agent died; when
    ``declared_lost`` is given, only those the scheduler logged as ended otherwise than finished."""
    unseen = {task: (when, "killed") for task, when in (killed_at or {}).items()}
    for e in executions:
        span = (agent_died or {}).get(e.task_id)
        if span is not None and e.end is not None and span[0] - IN_FLIGHT <= e.end <= span[1]:
            unseen[e.task_id] = (span[1], "its agent died")
    if declared_lost is not None:
        unseen = {task: found for task, found in unseen.items() if task in declared_lost}
    return unseen


def _without_reruns_of_indeterminate(
    executions: list[Execution], unseen: dict[str, tuple[float, str]], verdict: JobVerdict
) -> list[Execution]:
    """The failover of a task killed after its end line is the shard's very next execution, and a
    FAILOVER: the job's next READY run waits until no task of it runs and its failover entries are
    gone. The kill may also have come after the command had exited (the agent not yet done with it):
    the task finished, nothing was failed over, and the shard's next execution is the next run's
    READY. A later FAILOVER of the shard is then the repair of some later run (its agent removed,
    say), which must stay in that run: taking it out made that run look as if the shard never
    completed there, a loss that was none."""
    rerun: set[int] = set()
    ordered = sorted(executions, key=lambda x: x.start)
    for number, e in enumerate(ordered):
        if e.task_id not in unseen or e.end is None:
            continue
        when, why = unseen[e.task_id]
        if e.end > when:
            continue
        following = next((x for x in ordered[number + 1 :] if x.shard == e.shard), None)
        if following is None or following.kind != "FAILOVER" or following.start < when:
            continue
        rerun.add(id(following))
        verdict.reran_indeterminate.append(
            f"shard {e.shard}: {e.task_id} ended at {e.end:.3f}, {why} at {when:.3f} before its end was seen; "
            f"failed over as {following.task_id}"
        )
    return [e for e in ordered if id(e) not in rerun]


def overlaps(executions: list[Execution]) -> list[str]:
    by_shard: dict[tuple[str, int], list[Execution]] = defaultdict(list)
    for e in executions:
        by_shard[(e.job, e.shard)].append(e)
    found = []
    for (job, shard), items in by_shard.items():
        done = sorted((e for e in items if e.end is not None), key=lambda e: e.start)
        latest: Execution | None = None  # the execution ending last among those started so far
        for e in done:
            if latest is not None and latest.end is not None and e.start < latest.end:
                found.append(
                    f"{job} shard {shard}: {latest.task_id} [{latest.start:.3f}, {latest.end:.3f}]"
                    f" and {e.task_id} from {e.start:.3f}"
                )
            if latest is None or (e.end or 0.0) > (latest.end or 0.0):
                latest = e
    return found


# ------------------------------------------------------------------------------------- API writes

JobState = tuple[bool, bool, str]  # exists, disabled, description


def _apply(op: str, arg: str, state: JobState) -> tuple[int, JobState]:
    """The status class (2 or 4) the op answers from ``state``, and the state after it."""
    exists, disabled, description = state
    if op == "register":
        return (4, state) if exists else (2, (True, False, arg))
    if op == "deregister":
        return 2, (False, False, "")
    if not exists:
        return 4, state
    if op == "update":
        return 2, (True, disabled, arg)
    if op == "disable":
        return 2, (True, True, description)
    if op == "enable":
        return 2, (True, False, description)
    return 2, state  # trigger


@dataclass(frozen=True)
class Write:
    at: float
    op: str
    job: str
    arg: str
    status: int | None  # None: no answer (connection refused, timeout)
    answer: str = ""


def check_writes(writes: list[Write], final: dict[str, JobState]) -> list[str]:
    """Violations: a write whose answer no possible state explains, or a final state not reachable."""
    problems = []
    by_job: dict[str, list[Write]] = defaultdict(list)
    for w in writes:
        by_job[w.job].append(w)
    for job, items in sorted(by_job.items()):
        possible: set[JobState] = {(False, False, "")}
        for w in items:
            outcomes = {s: _apply(w.op, w.arg, s) for s in possible}
            cls = None if w.status is None else w.status // 100
            if cls == 2:
                after = {new for code, new in outcomes.values() if code == 2}
            elif cls == 4:
                after = {s for s, (code, _) in outcomes.items() if code == 4}
            else:  # 5xx or no answer: all or nothing
                after = possible | {new for code, new in outcomes.values() if code == 2}
            if not after:
                problems.append(
                    f"{job}: {w.op}({w.arg}) answered {w.status} {w.answer[:120]!r} from {sorted(possible)}"
                )
                after = {new for _, new in outcomes.values()} | possible
            possible = after
        state = final.get(job, (False, False, ""))
        if state not in possible:
            problems.append(f"{job}: final state {state} is none of {sorted(possible)}")
    return problems


def summary(
    verdicts: list[JobVerdict], faults: int, api: int, api_problems: list[str], extra: dict[str, Any]
) -> dict[str, Any]:
    return {
        "faults": faults,
        "executions": sum(v.executions for v in verdicts),
        "runs": sum(v.runs for v in verdicts),
        "killed": sum(v.killed for v in verdicts),
        "lost": sum(len(v.lost) for v in verdicts),
        "doubled": sum(len(v.doubled) for v in verdicts),
        "reran_indeterminate": sum(len(v.reran_indeterminate) for v in verdicts),
        "overlapping": sum(len(v.overlapping) for v in verdicts),
        "unrecorded": sum(len(v.unrecorded) for v in verdicts),
        "allow_runs_overlapping": sum(v.runs_overlapping for v in verdicts),
        "allow_shard_overlaps_across_runs": sum(v.shard_overlaps_across_runs for v in verdicts),
        "lost_to_one_entry_per_shard": sum(len(v.lost_to_one_entry_per_shard) for v in verdicts),
        "jobs": {
            v.job: f"{v.runs} runs / {v.instants} instants ({v.allowed_missing} may fold)" for v in verdicts
        },
        "api_writes": api,
        "api_violations": len(api_problems),
        **extra,
    }
