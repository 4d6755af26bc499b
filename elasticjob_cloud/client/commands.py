"""``elasticjob-cloud app|job|task|history …``: the REST API from the command line.

Every command prints a table (or ``key value`` lines) for people, or the API's JSON with ``--json``.
A 4xx/5xx answer prints the server's message (and the fields it names) on stderr and exits 1; a
file or flag that cannot become a body exits 2, as a usage error does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from .bodies import BodyError, build_body
from .http import DEFAULT_API, Api, ApiError
from .output import as_json, fields, table
from .policies import POLICY_FLAGS, cleared_keys

Handler = Callable[[Api, argparse.Namespace], Any]

APP_FLAGS = {
    "name": "appName",
    "url": "appURL",
    "bootstrap_script": "bootstrapScript",
    "cpu": "cpuCount",
    "memory": "memoryMB",
    "cache": "appCacheEnable",
    "event_trace_sampling_count": "eventTraceSamplingCount",
}
JOB_FLAGS = {
    "name": "jobName",
    "app": "appName",
    "cron": "cron",
    "job_class": "jobClass",
    "type": "jobType",
    "execution_type": "jobExecutionType",
    "shards": "shardingTotalCount",
    "sharding_parameters": "shardingItemParameters",
    "parameter": "jobParameter",
    "cpu": "cpuCount",
    "memory": "memoryMB",
    "failover": "failover",
    "misfire": "misfire",
    "script": "scriptCommandLine",
    "streaming_process": "streamingProcess",
    "description": "description",
    "time_zone": "timeZone",
    **POLICY_FLAGS,
}
APP_COLUMNS = [
    ("NAME", lambda a: a["appName"]),
    ("URL", lambda a: a["appURL"]),
    ("BOOTSTRAP", lambda a: a["bootstrapScript"]),
    ("CPU", lambda a: a["cpuCount"]),
    ("MEM", lambda a: a["memoryMB"]),
    ("CACHE", lambda a: a.get("appCacheEnable")),
]
JOB_COLUMNS = [
    ("NAME", lambda j: j["jobName"]),
    ("APP", lambda j: j["appName"]),
    ("TYPE", lambda j: j["jobType"]),
    ("EXECUTION", lambda j: j["jobExecutionType"]),
    ("CRON", lambda j: j["cron"]),
    ("SHARDS", lambda j: j["shardingTotalCount"]),
    ("CPU", lambda j: j["cpuCount"]),
    ("MEM", lambda j: j["memoryMB"]),
]
EXECUTION_COLUMNS = [
    ("START", lambda r: r.get("startTime")),
    ("COMPLETE", lambda r: r.get("completeTime")),
    ("JOB", lambda r: r.get("jobName")),
    ("ITEM", lambda r: r.get("shardingItem")),
    ("SUCCESS", lambda r: r.get("success")),
    ("SOURCE", lambda r: r.get("source")),
    ("HOST", lambda r: r.get("hostname")),
    ("FAILURE", lambda r: (r.get("failureCause") or {}).get("plainText") or None),
]
STATUS_COLUMNS = [
    ("TIME", lambda r: r.get("creationTime")),
    ("JOB", lambda r: r.get("jobName")),
    ("ITEMS", lambda r: r.get("shardingItems")),
    ("STATE", lambda r: r.get("state")),
    ("SOURCE", lambda r: r.get("source")),
    ("TASK", lambda r: r.get("taskId")),
    ("MESSAGE", lambda r: r.get("message")),
]


def common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--api", help=f"REST API URL (env ELASTICJOB_CLOUD_API, default {DEFAULT_API})")
    common.add_argument("--user", help="HTTP Basic user (env ELASTICJOB_CLOUD_USER; else ~/.netrc)")
    common.add_argument("--password", help="HTTP Basic password (env ELASTICJOB_CLOUD_PASSWORD)")
    common.add_argument("--json", action="store_true", help="print the API's JSON (for scripts)")
    return common


def runner(handler: Handler) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        api = Api.from_options(args.api, args.user, args.password)
        try:
            handler(api, args)
        except ApiError as exc:
            print(f"elasticjob-cloud: {exc.describe()}", file=sys.stderr)
            return 1
        except BodyError as exc:
            print(f"elasticjob-cloud: {exc}", file=sys.stderr)
            return 2
        return 0

    return run


def command(group: Any, name: str, handler: Handler, common: argparse.ArgumentParser, help: str) -> Any:
    parser = group.add_parser(name, parents=[common], help=help, description=help)
    parser.set_defaults(func=runner(handler))
    return parser


def path_part(name: str) -> str:
    return quote(name, safe="")


def show(args: argparse.Namespace, payload: Any, columns: list[Any] | None = None) -> None:
    if args.json:
        as_json(payload)
    elif columns is not None:
        table(payload, columns)
    elif isinstance(payload, dict):
        fields(payload)
    else:
        print(payload)


def done(args: argparse.Namespace, what: str) -> None:
    if args.json:
        as_json({"ok": True, "message": what})
    else:
        print(what)


def named_body(
    args: argparse.Namespace, flags: dict[str, str], positional: str | None = None
) -> dict[str, Any]:
    named = {wire: getattr(args, attr, None) for attr, wire in flags.items()}
    if positional and getattr(args, "target", None):
        named[positional] = args.target
    return build_body(args.file, named, args.set, cleared_keys(args, flags))


def lister(path: str, key: str, columns: list[Any]) -> Handler:
    """``list``: every record at ``path`` as a table, or with ``--names`` only their ``key``."""

    def handle(api: Api, args: argparse.Namespace) -> None:
        records = api.get(path)
        if args.names:
            print("\n".join(sorted(record[key] for record in records)))
        else:
            show(args, records, columns)

    return handle


def shower(path: str, disable_path: str) -> Handler:
    """``show NAME``: the record at ``path`` with its ``disabled`` flag (``{}``: the NAME)."""

    def handle(api: Api, args: argparse.Namespace) -> None:
        name = path_part(args.name)
        record = api.get(path.format(name))
        record["disabled"] = api.get(disable_path.format(name))
        show(args, record)

    return handle


def sender(
    method: str, path: str, flags: dict[str, str], key: str, outcome: str, positional: bool = False
) -> Handler:
    """``register`` / ``update``: the body from -f, flags and --set (with ``positional``, the NAME
    given fills ``key``), sent as ``method path``; ``outcome`` names the record (``{}``)."""

    def handle(api: Api, args: argparse.Namespace) -> None:
        body = named_body(args, flags, key if positional else None)
        api.request(method, path, body)
        done(args, outcome.format(body.get(key)))

    return handle


def action(method: str, path: str, outcome: str) -> Handler:
    """A command on one NAME: ``method path`` (``{}``: the NAME as a path segment), then ``outcome``."""

    def handle(api: Api, args: argparse.Namespace) -> None:
        api.request(method, path.format(path_part(args.name)))
        done(args, outcome.format(args.name))

    return handle


def body_options(parser: argparse.ArgumentParser, with_target: str | None = None) -> None:
    if with_target:
        parser.add_argument("target", nargs="?", metavar="NAME", help=f"the {with_target} to update")
    parser.add_argument("-f", "--file", help="JSON or YAML file with the body ('-': standard input)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="any API field (repeatable)")
