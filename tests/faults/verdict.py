"""The campaign's verdict: the checker applied to what the jobs recorded and the API answered."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from elasticjob_cloud.core import paths
from elasticjob_cloud.core.cron import CronSchedule
from tests.faults import checker, zkhistory
from tests.faults.jobs import API_JOBS, CHECKED, FAULTS, SESSION_TIMEOUT
from tests.faults.overlapping_runs import check_overlapping

if TYPE_CHECKING:
    from tests.faults.campaign import Campaign


def judge(self: Campaign, stopped: float) -> tuple[dict[str, Any], dict[str, Any]]:
    executions = checker.read_executions(self.log_path.read_text(errors="replace").splitlines())
    outages = _outages(self)
    killed_at = {f.detail: f.start for f in self.done if f.kind == "kill_executor"}  # executor = task ID
    died = {f.detail: (f.start, f.end) for f in self.done if f.kind in ("remove_agent", "restart_master")}
    agent_died = {
        e.task_id: died[e.task_id.split(checker.DELIMITER)[3]]
        for e in executions
        if e.task_id.split(checker.DELIMITER)[3] in died
    }
    declared_lost = _declared_lost(self)
    folded_tasks = _folded(self)  # failovers the scheduler folded into a waiting entry
    # what the scheduler's ledger committed, from ZooKeeper's own transaction log: the runs of the
    # jobs whose runs overlap (see ``overlapping_runs``)
    logged = zkhistory.read_log(self.zk.data_dir)
    verdicts = []
    for job in CHECKED:
        if job.daemon:
            continue
        mine = [e for e in executions if e.job == job.name]
        # Runs are held against the instants that can have fired: from before the first
        # registration to after the crons were stopped (a job registered, or stopped, just before
        # an instant of its cron fires it while the loop still registers or stops the others;
        # counted from after the registrations to before the stop, that run was one more than the
        # instants, by where in the cron's period the campaign began and ended: only the folding
        # of the scheduler faults kept it from reading as doubled). The loss allowance adds those
        # edge instants back: a run counts as lost exactly as before.
        instants = _instants(job.cron, self.registering, self.quiesced)
        edges = instants - _instants(job.cron, self.registered, stopped)
        folded = sum(max(0, _instants(job.cron, a, b) - 1) for a, b in outages) + 2 + edges
        rules = (instants, folded, job.failover, job.misfire, stopped + 5)
        common: dict[str, Any] = dict(killed_at=killed_at, agent_died=agent_died, declared_lost=declared_lost)
        if job.overlapping:
            history = zkhistory.job_history(logged, job.name, self.connection.root)
            verdicts.append(
                check_overlapping(job.name, job.shards, mine, history, *rules, **common, folded=folded_tasks)
            )
        else:
            verdicts.append(checker.check_transient(job.name, job.shards, mine, *rules, **common))
    daemon_overlaps = checker.overlaps([e for e in executions if e.job == "daemon"])
    final = {}
    for name in API_JOBS:
        config = self.registry.config.get_job(name)
        disabled = self.registry.disable.is_job_disabled(name)
        final[name] = (config is not None, disabled, config.description if config else "")
    api_problems = checker.check_writes(self.writes, final)
    resume = _resume_latency(self, executions, stopped)
    extra = {
        "seed": self.seed,
        "faults_by_kind": {k: sum(1 for f in self.done if f.kind == k) for k in FAULTS},
        "daemon_overlapping": len(daemon_overlaps),
        "allow_records_left": _records_left(self),
        "api_answers": _answer_classes(self.writes),
        "resume_seconds_max": _worst(resume, master=False),
        # jobs with a task on the agent that never came back wait for agent_reregister_timeout
        # and the unreachable grace period: the master says nothing of that task before
        "resume_after_master_restart_max": _worst(resume, master=True),
        "resume_cut_short": sum(1 for _, cut in resume.values() if cut),
    }
    report = checker.summary(verdicts, len(self.done), len(self.writes), api_problems, extra)
    details = {
        "jobs": {v.job: vars(v) for v in verdicts},
        "daemon_overlaps": daemon_overlaps,
        "api_problems": api_problems,
        "faults": [vars(f) for f in self.done],
        "resume": resume,
    }
    return report, details


# the scheduler's warning for a task that ended otherwise than finished (``mesos/statuses.py``)
ENDED_BADLY = re.compile(r"elasticjob_cloud\.mesos\.statuses: [A-Z_]+: job \S+ shard \d+ task (\S+)")


def _records_left(self: Campaign) -> list[str]:
    """Running records of the jobs whose runs overlap, under either name (the shard's own or a task
    ID), whose task the master does not know as running: none may be left behind."""
    live = self.live_tasks()
    left = []
    for job in CHECKED:
        if not job.overlapping:
            continue
        folder = paths.running_job(job.name)
        for child in self.registry.tree.children(folder) if self.registry.tree.exists(folder) else []:
            found = self.registry.tree.get(f"{folder}/{child}")
            task = found[0].decode() if found else ""
            if task not in live:
                left.append(f"{job.name}/{child} = {task}")
    return left


# the scheduler's warning for a failover folded into its shard's waiting entry (``mesos/engine_failover.py``)
FOLDED = re.compile(
    r"elasticjob_cloud\.mesos\.engine: shard \d+ of \S+ is queued to run again already: the \S+ of (\S+) is folded"
)


def _folded(self: Campaign) -> set[str]:
    """The tasks whose failover (or retry) any scheduler process folded into a waiting one."""
    found: set[str] = set()
    for path in sorted((self.work / "schedulers").glob("*.log")):
        found.update(FOLDED.findall(path.read_text(errors="replace")))
    return found


def _declared_lost(self: Campaign) -> set[str]:
    """The tasks any scheduler process logged as lost, failed or past their grace period."""
    found: set[str] = set()
    for path in sorted((self.work / "schedulers").glob("*.log")):
        found.update(ENDED_BADLY.findall(path.read_text(errors="replace")))
    return found


def _outages(self: Campaign) -> list[tuple[float, float]]:
    """Where the start-up catch-up rule may fold instants (merged where they overlap): no leader,
    or a leader or ZooKeeper fault (the leader loses its session; its successor settles the gap
    with one run)."""
    spans = list(self.leaderless)
    spans += [
        (f.start, f.end + SESSION_TIMEOUT)
        for f in self.done
        if f.kind in ("pause_zk", "restart_zk", "stop_leader", "kill_leader")
    ]
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


RESUMING = ("kill_leader", "stop_leader", "pause_zk", "restart_zk", "restart_master")


def _resume_latency(
    self: Campaign, executions: list[checker.Execution], stopped: float
) -> dict[str, tuple[float, bool]]:
    """Per scheduler, ZooKeeper or master fault: (seconds from its end until every cron job started
    an execution again, whether the next fault came first). ``inf``: some job did not start again
    before the campaign stopped the crons. A fault the next one cut short is charged only for the
    time before it (the faults come 1.5-5 s apart, a takeover needs the 4 s session timeout): the
    last fault of such a chain measures whatever stall is left, so none goes unseen."""
    starts = {
        job.name: sorted(e.start for e in executions if e.job == job.name)
        for job in CHECKED
        if not job.daemon
    }
    latency = {}
    for number, fault in enumerate(self.done):
        if fault.kind not in RESUMING:
            continue
        worst = 0.0
        for times in starts.values():
            after = [t for t in times if fault.end <= t <= stopped]
            worst = max(worst, (after[0] - fault.end) if after else float("inf"))
        following = self.done[number + 1].start if number + 1 < len(self.done) else float("inf")
        latency[f"{number}:{fault.kind}"] = (round(worst, 2), fault.end + worst > following)
    return latency


def _worst(resume: dict[str, tuple[float, bool]], master: bool) -> float:
    found = [
        seconds
        for key, (seconds, cut) in resume.items()
        if not cut and key.endswith(":restart_master") == master
    ]
    return round(max(found, default=0.0), 1)


def _instants(cron: str, start: float, end: float) -> int:
    """Cron instants in ``(start, end]``."""
    schedule = CronSchedule.parse(cron, "UTC")
    count, t = 0, datetime.fromtimestamp(start, UTC)
    while True:
        found = schedule.next_after(t)
        if found is None or found.timestamp() > end:
            return count
        count, t = count + 1, found


def _answer_classes(writes: list[checker.Write]) -> dict[str, int]:
    classes: dict[str, int] = {}
    for w in writes:
        key = "none" if w.status is None else f"{w.status // 100}xx"
        classes[key] = classes.get(key, 0) + 1
    return classes
