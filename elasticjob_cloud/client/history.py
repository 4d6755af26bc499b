"""``elasticjob-cloud task running|ready|failover`` and ``history executions|status``.

History reads the event trace at ``/api/job/events/executions`` and ``/statusTraces`` in the
original's shape: ``{"total": N, "rows": [...]}``, paged with ``page`` / ``per_page``.
"""

from __future__ import annotations

import argparse
from typing import Any

from .commands import EXECUTION_COLUMNS, STATUS_COLUMNS, command, show
from .http import Api

RUNNING_COLUMNS = [
    ("JOB", lambda t: t["metaInfo"]["jobName"]),
    ("ITEMS", lambda t: ",".join(str(i) for i in t["metaInfo"]["shardingItems"])),
    ("TYPE", lambda t: t.get("type")),
    ("IDLE", lambda t: t.get("idle")),
    ("AGENT", lambda t: t.get("slaveId")),
    ("TASK", lambda t: t["id"]),
]
READY_COLUMNS = [("JOB", lambda t: t["jobName"]), ("RUNS", lambda t: t["times"])]
FAILOVER_COLUMNS = [
    ("JOB", lambda t: t["taskInfo"]["jobName"]),
    ("ITEMS", lambda t: ",".join(str(i) for i in t["taskInfo"]["shardingItems"])),
    ("FAILED TASK", lambda t: t.get("originalTaskId")),
]


def add_task_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("task", help="tasks: running, ready, failover")
    group = parser.add_subparsers(dest="task_command", required=True, metavar="ACTION")
    for name, handler, help_text in (
        ("running", task_running, "tasks running now"),
        ("ready", task_ready, "runs waiting in the ready queue"),
        ("failover", task_failover, "shards waiting in the failover queue"),
    ):
        command(group, name, handler, common, help_text).add_argument("--job", help="only this job")


def add_history_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("history", help="event trace: executions, status")
    group = parser.add_subparsers(dest="history_command", required=True, metavar="ACTION")
    runs = command(group, "executions", history_executions, common, "executions, newest first")
    status = command(group, "status", history_status, common, "task status changes, newest first")
    for sub in (runs, status):
        sub.add_argument("--job", help="jobName")
        sub.add_argument("--task-id")
        sub.add_argument("--start", help="startTime, yyyy-MM-dd HH:mm:ss")
        sub.add_argument("--end", help="endTime, yyyy-MM-dd HH:mm:ss")
        sub.add_argument("--page", type=int, default=1)
        sub.add_argument("--per-page", type=int, default=20)
    runs.add_argument("--ip")
    outcome = runs.add_mutually_exclusive_group()
    outcome.add_argument("--success", dest="success", action="store_const", const="1")
    outcome.add_argument("--failed", dest="success", action="store_const", const="0")
    status.add_argument("--state", help="e.g. TASK_FAILED")
    status.add_argument("--agent", help="slaveId")


def _of_job(rows: list[dict[str, Any]], job: str | None, name: Any) -> list[dict[str, Any]]:
    return rows if not job else [row for row in rows if name(row) == job]


def task_running(api: Api, args: argparse.Namespace) -> None:
    rows = _of_job(api.get("/api/job/tasks/running"), args.job, lambda t: t["metaInfo"]["jobName"])
    show(args, rows, RUNNING_COLUMNS)


def task_ready(api: Api, args: argparse.Namespace) -> None:
    show(args, _of_job(api.get("/api/job/tasks/ready"), args.job, lambda t: t["jobName"]), READY_COLUMNS)


def task_failover(api: Api, args: argparse.Namespace) -> None:
    rows = _of_job(api.get("/api/job/tasks/failover"), args.job, lambda t: t["taskInfo"]["jobName"])
    show(args, rows, FAILOVER_COLUMNS)


def _page(api: Api, args: argparse.Namespace, path: str, filters: dict[str, Any], columns: Any) -> None:
    params = {
        "page": args.page,
        "per_page": args.per_page,
        "sort": "startTime" if path.endswith("executions") else "creationTime",
        "order": "DESC",
        **{key: value for key, value in filters.items() if value not in (None, "")},
    }
    result = api.get(path, **params)
    if args.json:
        show(args, result)
        return
    rows = result.get("rows", []) if isinstance(result, dict) else []
    show(args, rows, columns)
    total = result.get("total", len(rows)) if isinstance(result, dict) else len(rows)
    print(f"({len(rows)} of {total}; page {args.page})")


def executions_of(api: Api, args: argparse.Namespace, filters: dict[str, Any]) -> None:
    _page(api, args, "/api/job/events/executions", filters, EXECUTION_COLUMNS)


def history_executions(api: Api, args: argparse.Namespace) -> None:
    filters = {
        "jobName": args.job,
        "taskId": args.task_id,
        "ip": args.ip,
        "isSuccess": args.success,
        "startTime": args.start,
        "endTime": args.end,
    }
    executions_of(api, args, filters)


def history_status(api: Api, args: argparse.Namespace) -> None:
    filters = {
        "jobName": args.job,
        "taskId": args.task_id,
        "state": args.state,
        "slaveId": args.agent,
        "startTime": args.start,
        "endTime": args.end,
    }
    _page(api, args, "/api/job/events/statusTraces", filters, STATUS_COLUMNS)
