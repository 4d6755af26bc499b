"""The job process: ``exec python3 -m elasticjob_cloud.executor.runner`` ends an app's bootstrapScript.

Run from the app directory (the current directory is put first on ``sys.path``), it reads the
context the executor left (:mod:`elasticjob_cloud.executor.context`), imports the job and calls
it once per shard. Two modes:

* **once** (TRANSIENT jobs): run, then exit ``0`` (success), ``1`` (the job raised) or ``2`` (the
  job could not be loaded). A one-line reason goes to ``ELASTICJOB_CLOUD_RESULT_FILE`` and the
  traceback to stderr (the task's stderr file in the sandbox).
* **serve** (DAEMON jobs, when ``ELASTICJOB_CLOUD_CONTROL_FDS="r,w"`` is set): import the job once
  and keep it warm; for every request line on fd ``r`` run the shards and answer one JSON line on
  fd ``w``. The first line written is ``{"ready": true}`` or ``{"ready": false, "error": …}``.
  EOF on ``r`` ends the process.

Only the standard library and :mod:`elasticjob_cloud.job` are imported here: every millisecond of
start-up is paid by every task.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from elasticjob_cloud.executor.context import (
    ENV_CONTEXT_FILE,
    ENV_CONTROL_FDS,
    EXIT_JOB_FAILED,
    EXIT_OK,
    EXIT_SETUP_FAILED,
    JobSpec,
    read_context,
    write_result,
)
from elasticjob_cloud.job import ShardingContext

log = logging.getLogger("elasticjob_cloud.runner")

REQUIRED_METHODS = {"SIMPLE": ("execute",), "DATAFLOW": ("fetch_data", "process_data")}


class JobLoadError(Exception):
    """The job named by the configuration cannot be imported or does not fit its type."""


def _import_attribute(path: str) -> Any:
    module_name, sep, attribute = path.partition(":")
    if not sep:
        module_name, _, attribute = path.rpartition(".")
    if not module_name or not attribute:
        raise JobLoadError(f"jobClass {path!r} is not 'package.module.Class' or 'package.module:Class'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise JobLoadError(f"cannot import {module_name!r}: {exc}") from exc
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise JobLoadError(f"module {module_name!r} has no attribute {attribute!r}") from None


def load_job(spec: JobSpec) -> Any:
    """The job object: ``jobClass()``, or the ``beanName`` of module ``applicationContext``.

    A bean may be an instance, a class or a zero-argument factory.
    """
    if spec.bean_name and spec.application_context:
        target = _import_attribute(f"{spec.application_context}:{spec.bean_name}")
    else:
        target = _import_attribute(spec.job_class)
    methods = REQUIRED_METHODS.get(spec.job_type)
    if methods is None:
        raise JobLoadError(f"job type {spec.job_type!r} is not run by the Python runner")
    needs_call = isinstance(target, type) or not all(hasattr(target, m) for m in methods)
    if needs_call:
        if not callable(target):
            raise JobLoadError(f"{target!r} is neither a {spec.job_type} job nor a factory")
        target = target()
    missing = [m for m in methods if not callable(getattr(target, m, None))]
    if missing:
        raise JobLoadError(f"{type(target).__name__} is not a {spec.job_type} job: no {', '.join(missing)}()")
    return target


def run_shard(job: Any, spec: JobSpec, context: ShardingContext) -> None:
    """One execution of one shard (DATAFLOW: one batch, or until empty with streamingProcess)."""
    if spec.job_type == "SIMPLE":
        job.execute(context)
        return
    while True:
        data = job.fetch_data(context)
        if not data:
            return
        job.process_data(context, data)
        if not spec.streaming_process:
            return


def run_shards(job: Any, spec: JobSpec, shards: Sequence[ShardingContext]) -> list[str]:
    """Run every shard; return a short reason per failed shard (the traceback goes to stderr)."""
    errors = []
    for context in shards:
        try:
            run_shard(job, spec, context)
        except Exception as exc:
            traceback.print_exc()
            errors.append(f"item {context.sharding_item}: {type(exc).__name__}: {exc}")
    return errors


def _once(spec: JobSpec, shards: list[ShardingContext]) -> int:
    try:
        job = load_job(spec)
    except Exception as exc:
        traceback.print_exc()
        write_result(f"cannot load job: {exc}")
        return EXIT_SETUP_FAILED
    errors = run_shards(job, spec, shards)
    if errors:
        write_result("; ".join(errors))
        return EXIT_JOB_FAILED
    return EXIT_OK


def _serve(spec: JobSpec, shards: list[ShardingContext], fds: str) -> int:
    read_fd, write_fd = (int(fd) for fd in fds.split(","))
    requests = os.fdopen(read_fd, "rb")
    replies = os.fdopen(write_fd, "wb", buffering=0)

    def reply(document: dict[str, Any]) -> None:
        replies.write(json.dumps(document).encode("utf-8") + b"\n")

    try:
        job = load_job(spec)
    except Exception as exc:
        traceback.print_exc()
        reply({"ready": False, "error": f"cannot load job: {exc}"})
        return EXIT_SETUP_FAILED
    reply({"ready": True})
    for line in requests:
        if not line.strip():
            continue
        try:
            errors = run_shards(job, spec, shards)
        except BaseException as exc:  # SystemExit from user code must not end the warm process
            errors = [f"{type(exc).__name__}: {exc}"]
        sys.stdout.flush()
        sys.stderr.flush()
        reply({"ok": not errors, "error": "; ".join(errors)})
    return EXIT_OK


def main() -> int:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    path = os.environ.get(ENV_CONTEXT_FILE)
    if not path:
        sys.stderr.write(f"{ENV_CONTEXT_FILE} is not set: run this through elasticjob-cloud-executor\n")
        return EXIT_SETUP_FAILED
    try:
        spec, shards = read_context(path)
    except (OSError, ValueError, KeyError) as exc:
        write_result(f"bad context file {path}: {exc}")
        return EXIT_SETUP_FAILED
    sys.path.insert(0, os.getcwd())
    fds = os.environ.get(ENV_CONTROL_FDS)
    if fds:
        return _serve(spec, shards, fds)
    return _once(spec, shards)


if __name__ == "__main__":
    sys.exit(main())
