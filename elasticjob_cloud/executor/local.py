"""``elasticjob-cloud run-local``: run one shard of a job without Mesos (the original's LocalTaskExecutor).

SIMPLE and DATAFLOW jobs run in this process through the same code as on an agent (the runner's
``load_job`` / ``run_shard``), with the app directory first on ``sys.path``; SCRIPT jobs run their
``scriptCommandLine`` in the app directory with the shard JSON as the last argument. The task ID
is the original's local one: ``{job}@-@{item}@-@READY@-@foo_slave_id@-@foo_uuid``.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

from elasticjob_cloud.executor.context import EXIT_JOB_FAILED, EXIT_OK, EXIT_SETUP_FAILED, JobSpec
from elasticjob_cloud.executor.runner import JobLoadError, load_job, run_shard
from elasticjob_cloud.executor.task import script_argv
from elasticjob_cloud.job import ShardingContext

log = logging.getLogger(__name__)


def parse_item_parameters(text: str) -> dict[int, str]:
    """``"0=a,1=b"`` → ``{0: "a", 1: "b"}`` (the original's format; entries trimmed)."""
    result: dict[int, str] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = entry.partition("=")
        if not sep or "=" in value:
            raise ValueError(f"sharding item parameters {text!r}: format error, should be int=xx,int=xx")
        if not key.strip().isdigit():
            raise ValueError(f"sharding item parameters key {key.strip()!r} is not an integer")
        result[int(key)] = value.strip()
    return result


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("run-local", help="run one shard of a job in-process, without Mesos")
    parser.add_argument("--app", default=".", help="the app directory (default: current directory)")
    parser.add_argument("--job-name", required=True)
    parser.add_argument("--job-type", required=True, choices=["SIMPLE", "DATAFLOW", "SCRIPT"])
    parser.add_argument("--job-class", default="", help="pkg.module.Class or pkg.module:Class")
    parser.add_argument("--sharding-item", type=int, default=0)
    parser.add_argument("--sharding-total-count", type=int, default=1)
    parser.add_argument("--sharding-item-parameters", default="", help='e.g. "0=a,1=b"')
    parser.add_argument("--job-parameter", default="")
    parser.add_argument("--script-command-line", default="")
    parser.add_argument("--streaming-process", action="store_true", help="DATAFLOW: repeat until no data")
    parser.add_argument("--bean-name", default="")
    parser.add_argument("--application-context", default="", help="module holding --bean-name")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    app = Path(args.app).resolve()
    if not app.is_dir():
        log.error("app directory %s does not exist", app)
        return EXIT_SETUP_FAILED
    if not 0 <= args.sharding_item < args.sharding_total_count:
        log.error("sharding item %s is not in [0, %s)", args.sharding_item, args.sharding_total_count)
        return EXIT_SETUP_FAILED
    try:
        parameters = parse_item_parameters(args.sharding_item_parameters)
    except ValueError as exc:
        log.error("%s", exc)
        return EXIT_SETUP_FAILED
    context = ShardingContext(
        job_name=args.job_name,
        task_id=f"{args.job_name}@-@{args.sharding_item}@-@READY@-@foo_slave_id@-@foo_uuid",
        sharding_total_count=args.sharding_total_count,
        job_parameter=args.job_parameter,
        sharding_item=args.sharding_item,
        sharding_parameter=parameters.get(args.sharding_item, ""),
    )
    if args.job_type == "SCRIPT":
        return _run_script(args.script_command_line, app, context)
    spec = JobSpec(
        job_name=args.job_name,
        job_type=args.job_type,
        job_class=args.job_class,
        bean_name=args.bean_name,
        application_context=args.application_context,
        streaming_process=args.streaming_process,
    )
    sys.path.insert(0, str(app))
    previous = os.getcwd()
    os.chdir(app)
    try:
        job = load_job(spec)
        run_shard(job, spec, context)
    except JobLoadError as exc:
        log.error("cannot load job: %s", exc)
        return EXIT_SETUP_FAILED
    except Exception:
        log.error("job %s item %s failed:\n%s", args.job_name, args.sharding_item, traceback.format_exc())
        return EXIT_JOB_FAILED
    finally:
        os.chdir(previous)
        sys.path.remove(str(app))
    log.info("job %s item %s finished", args.job_name, args.sharding_item)
    return EXIT_OK


def _run_script(command_line: str, app: Path, context: ShardingContext) -> int:
    if not command_line.strip():
        log.error("SCRIPT jobs need --script-command-line")
        return EXIT_SETUP_FAILED
    argv = script_argv(command_line, app, context)
    try:
        code = subprocess.call(argv, cwd=app)
    except OSError as exc:
        log.error("cannot run %s: %s", argv[0], exc)
        return EXIT_SETUP_FAILED
    return EXIT_OK if code == 0 else EXIT_JOB_FAILED
