"""``elasticjob-cloud export`` and ``import``: back up and restore apps, jobs and disabled flags
through the REST API, or migrate them from an original's ZooKeeper namespace.

Layering: the snapshot, the plan and the API calls are the client's (``client.backup``, HTTP only);
reading the original's namespace is ``registry.original`` (the one kazoo importer); the meaning of
its 3.x records is ``core.pojo3``. Only this command module joins them, so the client package stays
free of ZooKeeper.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..client import backup
from ..client.bodies import BodyError, read_document
from ..client.commands import common_options
from ..client.http import Api, ApiError
from ..core.pojo3 import from_pojo
from ..exceptions import ElasticJobError


def add_parser(subparsers: Any) -> None:
    common = common_options()
    exporting = subparsers.add_parser(
        "export", parents=[common], help="write every app and job (with disabled flags) as one JSON document"
    )
    exporting.add_argument("-o", "--output", default="-", help="file to write (default: standard output)")
    exporting.set_defaults(func=run_export)
    importing = subparsers.add_parser(
        "import",
        parents=[common],
        help="create or update apps and jobs from an export (or an original's ZooKeeper); idempotent",
    )
    importing.add_argument("file", nargs="?", help="an export (JSON or YAML; '-': standard input)")
    importing.add_argument("--dry-run", action="store_true", help="print the changes, make none")
    importing.add_argument("--from-zookeeper", metavar="HOSTS", help="read an original's namespace instead")
    importing.add_argument(
        "--namespace", default="elastic-job-cloud", help="its zk_namespace (3.x: elasticjob-cloud)"
    )
    importing.add_argument("--digest", default="", help="its zk_digest, user:password")
    importing.add_argument(
        "--job-class",
        action="append",
        default=[],
        metavar="JOB=CLASS",
        help="jobClass of a 3.x job (repeatable)",
    )
    importing.set_defaults(func=run_import)


def _api(args: argparse.Namespace) -> Api:
    return Api.from_options(args.api, args.user, args.password)


def run_export(args: argparse.Namespace) -> int:
    try:
        snapshot = backup.export(_api(args))
    except ApiError as exc:
        print(f"elasticjob-cloud: {exc.describe()}", file=sys.stderr)
        return 1
    text = json.dumps(snapshot, ensure_ascii=False, indent=2) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    return 0


def run_import(args: argparse.Namespace) -> int:
    problems: list[str] = []
    try:
        if args.from_zookeeper:
            snapshot, problems = from_zookeeper(
                args.from_zookeeper, args.namespace, args.digest, args.job_class
            )
        elif args.file:
            snapshot = read_document(args.file)
        else:
            raise BodyError("give an export file, or --from-zookeeper HOSTS")
        api = _api(args)
        changes = backup.plan(api, snapshot)
    except (BodyError, ElasticJobError) as exc:
        print(f"elasticjob-cloud: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    except ApiError as exc:
        print(f"elasticjob-cloud: {exc.describe()}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"elasticjob-cloud: skipped {problem}", file=sys.stderr)
    if args.dry_run:
        for change in changes:
            print(f"would {change.describe()}")
        print(f"{len(changes)} change(s) planned; nothing was changed (--dry-run)")
        return 1 if problems else 0

    def report(change: backup.Change, error: str | None) -> None:
        if error is None:
            print(f"{change.describe()}: done")
        else:
            print(f"elasticjob-cloud: {change.describe()} failed: {error}", file=sys.stderr)

    outcome = backup.apply(api, changes, report)
    print(
        f"{len(outcome.applied)} change(s) made, {len(outcome.failed)} failed"
        if changes
        else "nothing to change"
    )
    return 1 if outcome.failed or problems else 0


def from_zookeeper(
    hosts: str, namespace: str, digest: str, job_classes: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """A snapshot of an original's namespace (2.x JSON or 3.x YAML records), and what was skipped."""
    from ..registry.original import read_namespace

    classes = {}
    for pair in job_classes:
        job, sep, job_class = pair.partition("=")
        if not sep or not job.strip() or not job_class.strip():
            raise BodyError(f"--job-class {pair!r}: expected JOB=CLASS")
        classes[job.strip()] = job_class.strip()
    found = read_namespace(hosts, namespace, digest)
    problems = list(found.problems)
    apps = [{**record.data, "disabled": record.name in found.disabled_apps} for record in found.apps]
    jobs = []
    for record in found.jobs:
        disabled = record.name in found.disabled_jobs
        body = record.data
        if record.layout == "yaml":
            if record.name in classes and not body.get("jobClass"):
                body = {**body, "jobClass": classes[record.name]}
            try:
                mapped = from_pojo(body)
            except ElasticJobError as exc:
                problems.append(f"job {record.name} (3.x): {exc.message}")
                continue
            body, disabled = mapped.body, disabled or mapped.disabled
        jobs.append({**body, "disabled": disabled})
    return {"format": backup.FORMAT, "apps": apps, "jobs": jobs}, problems
