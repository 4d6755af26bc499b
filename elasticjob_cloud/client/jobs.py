"""``elasticjob-cloud job list|show|register|update|deregister|disable|enable|trigger|cron|executions|
dependencies|graph``."""

from __future__ import annotations

import argparse
from typing import Any

from .bodies import BodyError
from .commands import (
    EXECUTION_COLUMNS,
    JOB_COLUMNS,
    JOB_FLAGS,
    action,
    body_options,
    command,
    done,
    lister,
    path_part,
    sender,
    show,
    shower,
)
from .http import Api, ApiError
from .output import as_json
from .policies import add_policy_options

DURATION_COLUMN = ("MS", lambda r: r.get("durationMs"))


def add_job_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "job",
        help="jobs: list, show, register, update, deregister, disable, enable, trigger, cron, executions, "
        "dependencies, graph",
    )
    group = parser.add_subparsers(dest="job_command", required=True, metavar="ACTION")
    command(group, "list", job_list, common, "list the jobs").add_argument(
        "--names", action="store_true", help="only the names, one per line"
    )
    command(group, "show", job_show, common, "one job, with its disabled flag").add_argument("name")
    for name, handler, help_text in (
        ("register", job_register, "register a job (from -f FILE and/or flags)"),
        ("update", job_update, "change the fields given of a job"),
    ):
        sub = command(group, name, handler, common, help_text)
        body_options(sub, "job" if name == "update" else None)
        sub.add_argument("--name", help="jobName")
        sub.add_argument("--app", help="appName")
        sub.add_argument("--cron", help="cron expression (Quartz or Unix)")
        sub.add_argument("--job-class", help="jobClass (SIMPLE, DATAFLOW)")
        sub.add_argument("--type", choices=["SIMPLE", "DATAFLOW", "SCRIPT"], help="jobType")
        sub.add_argument("--execution-type", choices=["TRANSIENT", "DAEMON"], help="jobExecutionType")
        sub.add_argument("--shards", type=int, help="shardingTotalCount")
        sub.add_argument("--sharding-parameters", help="shardingItemParameters, e.g. 0=a,1=b")
        sub.add_argument("--parameter", help="jobParameter")
        sub.add_argument("--cpu", type=float, help="cpuCount per shard")
        sub.add_argument("--memory", type=float, help="memoryMB per shard")
        sub.add_argument("--failover", action=argparse.BooleanOptionalAction, default=None)
        sub.add_argument("--misfire", action=argparse.BooleanOptionalAction, default=None)
        sub.add_argument("--script", help="scriptCommandLine (SCRIPT)")
        sub.add_argument("--streaming-process", action=argparse.BooleanOptionalAction, default=None)
        sub.add_argument("--description")
        sub.add_argument("--time-zone", help="IANA zone of the cron")
        add_policy_options(sub, clearable=name == "update")
    deregister = command(
        group, "deregister", job_deregister, common, "deregister a job (its tasks are killed)"
    )
    deregister.add_argument("name")
    deregister.add_argument(
        "--cascade", action="store_true", help="also deregister the jobs that depend on it (else refused)"
    )
    command(
        group, "dependencies", job_dependencies, common, "the jobs it waits for and that wait for it"
    ).add_argument("name")
    command(group, "graph", job_graph, common, "every dependency edge: UPSTREAM -> DOWNSTREAM")
    for name, handler, help_text in (
        ("disable", job_disable, "disable a job"),
        ("enable", job_enable, "enable a job"),
    ):
        command(group, name, handler, common, help_text).add_argument("name")
    trigger = command(
        group,
        "trigger",
        job_trigger,
        common,
        "queue one run of a TRANSIENT job now; with --parameter, --sharding-parameters or "
        "--idempotency-key, a run with its own parameters, answered with its run ID",
    )
    trigger.add_argument("name")
    trigger.add_argument("--parameter", help="jobParameter of this run only")
    trigger.add_argument(
        "--sharding-parameters", help="shardingItemParameters of this run only, e.g. 0=a,1=b"
    )
    trigger.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="the same KEY within 24 h answers the run it queued instead of queueing another",
    )
    cron = command(group, "cron", job_cron, common, "next fire times of a job, or of --expression")
    cron.add_argument("name", nargs="?", help="a registered job")
    cron.add_argument("--expression", help="preview this cron expression instead")
    cron.add_argument("--time-zone", help="IANA zone for --expression")
    cron.add_argument("--count", type=int, default=10)
    cron.add_argument("--after", help="ISO-8601 start (default now)")
    runs = command(
        group, "executions", job_executions, common, "the job's last runs, with durations (event trace)"
    )
    runs.add_argument("name")
    runs.add_argument("--limit", type=int, default=20, help="how many (default 20, at most 1000)")


job_list = lister("/api/job/jobs", "jobName", JOB_COLUMNS)
job_show = shower("/api/job/jobs/{}", "/api/job/{}/disable")
job_register = sender("POST", "/api/job/register", JOB_FLAGS, "jobName", "job {} registered")
job_update = sender("PUT", "/api/job/update", JOB_FLAGS, "jobName", "job {} updated", positional=True)
EDGE_COLUMNS = [
    ("EDGE", lambda e: e["edge"]),
    ("JOB", lambda e: e["jobName"]),
    ("STATE", lambda e: e["state"]),
]


def job_deregister(api: Api, args: argparse.Namespace) -> None:
    params = {"cascade": "true"} if args.cascade else None
    api.request("DELETE", f"/api/job/{path_part(args.name)}/deregister", params=params)
    done(args, f"job {args.name} deregistered" + (" with the jobs that depend on it" if args.cascade else ""))


def job_dependencies(api: Api, args: argparse.Namespace) -> None:
    result = api.get(f"/api/job/{path_part(args.name)}/dependencies")
    if args.json:
        show(args, result)
        return
    edges = [{**e, "edge": "waits for"} for e in result.get("upstreams", [])]
    edges += [{**e, "edge": "needed by"} for e in result.get("downstreams", [])]
    show(args, edges, EDGE_COLUMNS)


def job_graph(api: Api, args: argparse.Namespace) -> None:
    result = api.get("/api/job/dependencies/graph")
    if args.json:
        show(args, result)
    else:
        print("\n".join(f"{e['from']} -> {e['to']}" for e in result.get("edges", [])))


job_disable = action("POST", "/api/job/{}/disable", "job {} disabled")
job_enable = action("POST", "/api/job/{}/enable", "job {} enabled")


TRIGGER_FLAGS = {
    "parameter": "jobParameter",
    "sharding_parameters": "shardingItemParameters",
    "idempotency_key": "idempotencyKey",
}


def job_trigger(api: Api, args: argparse.Namespace) -> None:
    """Without parameters the original's body (the name); with any, the JSON form (issue #17),
    whose answer names the run: ``run ID queued …`` (the ID is the second word, for scripts)."""
    given = {
        wire: getattr(args, attr) for attr, wire in TRIGGER_FLAGS.items() if getattr(args, attr) is not None
    }
    if not given:
        api.request("POST", "/api/job/trigger", text=args.name)
        done(args, f"job {args.name} triggered")
        return
    answer = api.request("POST", "/api/job/trigger", {"jobName": args.name, **given})
    if not isinstance(answer, dict) or "runId" not in answer:
        raise ApiError(
            0, "the API queued a run without naming it: it does not take run parameters (older scheduler?)"
        )
    if args.json:
        as_json(answer)
    elif answer.get("queued", True):
        print(f"run {answer['runId']} queued for job {args.name}")
    else:
        print(
            f"run {answer['runId']} of job {args.name} was queued before for idempotency key "
            f"{args.idempotency_key!r}: not queued again"
        )


def job_cron(api: Api, args: argparse.Namespace) -> None:
    params = {"count": args.count, "after": args.after}
    if args.expression:
        result = api.get("/api/cron/preview", cron=args.expression, timeZone=args.time_zone, **params)
    elif args.name:
        result = api.get(f"/api/job/jobs/{path_part(args.name)}/next-fire-times", **params)
    else:
        raise BodyError("give a job name or --expression")
    if args.json:
        show(args, result)
    else:
        print("\n".join(result.get("next", [])))


def job_executions(api: Api, args: argparse.Namespace) -> None:
    result = api.get(f"/api/job/jobs/{path_part(args.name)}/executions", limit=args.limit)
    if args.json:
        show(args, result)
        return
    show(
        args, result.get("executions", []), [*EXECUTION_COLUMNS[:2], DURATION_COLUMN, *EXECUTION_COLUMNS[3:]]
    )
    duration = result.get("duration") or {}
    if duration.get("count"):
        print(
            f"(duration of {duration['count']} completed: p50 {duration.get('p50Ms')} ms, p95 {duration.get('p95Ms')} ms)"
        )
