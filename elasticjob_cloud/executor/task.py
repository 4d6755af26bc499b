"""One task, from LAUNCH to its terminal status, on its own thread.

Outcome mapping (the whole of it):

* setup problem (bad task data, app cannot be fetched or extracted, empty bootstrapScript or
  scriptCommandLine, a job class that cannot be loaded, a bad DAEMON cron) → ``TASK_FAILED``
  ``JOB_FAILURE: …``; the executor stays up for its other tasks;
* TRANSIENT: exit 0 of every shard → ``TASK_FINISHED``; a non-zero exit → ``TASK_FAILED``
  ``JOB_FAILURE: …`` (the runner's one-line reason, or the exit status and the last stderr line);
* DAEMON: stays ``TASK_RUNNING`` (see :mod:`elasticjob_cloud.executor.daemon`);
* a kill → ``TASK_KILLED``, sent only once the job's process is gone.

Every status of a task is sent from the task's own thread, so they reach the agent in order.
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from elasticjob_cloud.core.taskdata import TaskData, decode_task_data, job_failure_message, task_dir_name
from elasticjob_cloud.exceptions import InvalidConfig
from elasticjob_cloud.executor import context as ctx
from elasticjob_cloud.executor.archive import UnsafeArchive
from elasticjob_cloud.executor.child import ChildProcess, describe_exit, tail
from elasticjob_cloud.executor.daemon import DaemonSchedule, NextFire, Outcome, cron_next_fire, run_daemon
from elasticjob_cloud.executor.fetch import FetchError
from elasticjob_cloud.executor.warm import WarmProcess, WarmStartError
from elasticjob_cloud.executor.workspace import AppWorkspace
from elasticjob_cloud.job import ShardingContext

log = logging.getLogger(__name__)

Report = Callable[[str, str | None], None]


@dataclass
class TaskEnvironment:
    """What every task of the executor shares."""

    sandbox: Path
    workspace: AppWorkspace | None
    app_error: str = ""
    kill_grace: float = 3.0
    die_with_parent: bool = False  # job processes get PR_SET_PDEATHSIG (command tasks, see child.py)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    next_fire_factory: Callable[[str, str], NextFire] = cron_next_fire
    base_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


def shard_contexts(data: TaskData) -> list[ShardingContext]:
    sc = data.sharding_context
    return [
        ShardingContext(
            job_name=sc.job_name,
            task_id=sc.task_id,
            sharding_total_count=sc.sharding_total_count,
            job_parameter=sc.job_parameter,
            sharding_item=item,
            sharding_parameter=sc.sharding_item_parameters[item],
        )
        for item in sc.sharding_items
    ]


def job_spec(data: TaskData) -> ctx.JobSpec:
    jc = data.job_config
    return ctx.JobSpec(
        job_name=jc.job_name,
        job_type=jc.job_type,
        job_class=jc.job_class,
        bean_name=jc.bean_name,
        application_context=jc.application_context,
        streaming_process=jc.streaming_process,
        job_properties=jc.job_properties,
    )


def script_argv(command_line: str, app_dir: Path, shard: ShardingContext) -> list[str]:
    """``scriptCommandLine`` split like a shell would, plus the shard JSON as one last argument."""
    argv = shlex.split(command_line)
    if argv and "/" not in argv[0] and (app_dir / argv[0]).is_file():
        argv[0] = f"./{argv[0]}"
    return [*argv, shard.to_json()]


class TaskFailed(Exception):
    """Ends a task with ``TASK_FAILED`` + the job-failure marker."""


class TaskRun:
    def __init__(self, task_id: str, raw_data: str, env: TaskEnvironment, report: Report):
        self.task_id = task_id
        self.raw_data = raw_data
        self.env = env
        self._report = report
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._child: ChildProcess | None = None
        self._warm: WarmProcess | None = None
        self.thread = threading.Thread(target=self.run, name=f"task-{task_id[:40]}", daemon=True)
        self.dir = env.sandbox / "tasks" / task_dir_name(task_id)

    def start(self) -> None:
        self.thread.start()

    def kill(self, grace: float | None = None) -> None:
        """Stop the task; its thread reports ``TASK_KILLED`` once the process is gone."""
        self.stopped.set()
        grace = self.env.kill_grace if grace is None else grace
        with self._lock:
            child, warm = self._child, self._warm
        if child is not None:
            child.kill(grace)
        if warm is not None:
            warm.kill(grace)

    def run(self) -> None:
        app_dir: Path | None = None
        try:
            self._report("TASK_RUNNING", None)
            data = self._decode()
            self.dir.mkdir(parents=True, exist_ok=True)
            app_dir = self._app_dir()
            if data.job_config.is_daemon:
                self._run_daemon(data, app_dir)
            else:
                self._run_transient(data, app_dir)
        except TaskFailed as exc:
            if self.stopped.is_set():
                self._report("TASK_KILLED", None)
            else:
                log.warning("task %s failed: %s", self.task_id, exc)
                self._report("TASK_FAILED", job_failure_message(str(exc)))
        except Exception as exc:
            log.exception("task %s broke", self.task_id)
            self._report("TASK_FAILED", job_failure_message(f"executor error: {type(exc).__name__}: {exc}"))
        finally:
            if app_dir is not None and self.env.workspace is not None:
                self.env.workspace.release(app_dir)

    # -- setup ------------------------------------------------------------------------------------

    def _decode(self) -> TaskData:
        try:
            return decode_task_data(self.raw_data)
        except InvalidConfig as exc:
            raise TaskFailed(exc.message) from None

    def _app_dir(self) -> Path:
        if self.env.workspace is None:
            raise TaskFailed(f"no usable app: {self.env.app_error}")
        if self.stopped.is_set():
            raise TaskFailed("killed")
        try:
            return self.env.workspace.acquire(self.dir)
        except (FetchError, UnsafeArchive, OSError) as exc:
            raise TaskFailed(f"cannot prepare app from {self.env.workspace.app.app_url}: {exc}") from None

    def _job_environment(
        self, data: TaskData, app_dir: Path, shards: list[ShardingContext]
    ) -> dict[str, str]:
        """Write the context file the runner reads; return the environment that names it."""
        ctx.write_context(self.dir / "context.json", job_spec(data), shards)
        return self._environment(app_dir, shards)

    def _environment(self, app_dir: Path, shards: list[ShardingContext]) -> dict[str, str]:
        python_dir = os.path.dirname(sys.executable)
        env = dict(self.env.base_env)
        env["PATH"] = os.pathsep.join([python_dir, env.get("PATH", os.defpath)])
        env.update(ctx.shard_environment(shards))
        env[ctx.ENV_PYTHON] = sys.executable
        env[ctx.ENV_APP_DIR] = str(app_dir)
        env[ctx.ENV_CONTEXT_FILE] = str(self.dir / "context.json")
        env[ctx.ENV_RESULT_FILE] = str(self.dir / "result")
        env["PYTHONUNBUFFERED"] = "1"
        env.pop(ctx.ENV_CONTROL_FDS, None)
        return env

    def _spawn(self, command: str | list[str], app_dir: Path, env: Mapping[str, str]) -> ChildProcess:
        with self._lock:
            if self.stopped.is_set():
                raise TaskFailed("killed")
            child = ChildProcess(
                command,
                cwd=app_dir,
                env=env,
                stdout=self.dir / "stdout",
                stderr=self.dir / "stderr",
                die_with_parent=self.env.die_with_parent,
            )
            self._child = child
            return child

    def _bootstrap(self) -> str:
        assert self.env.workspace is not None
        script = self.env.workspace.app.bootstrap_script.strip()
        if not script:
            raise TaskFailed("the app has no bootstrapScript")
        return script

    # -- TRANSIENT --------------------------------------------------------------------------------

    def _run_transient(self, data: TaskData, app_dir: Path) -> None:
        shards = shard_contexts(data)
        if data.job_config.job_type == "SCRIPT":
            outcome = self._run_script(data, app_dir, shards)
        else:
            env = self._job_environment(data, app_dir, shards)
            (self.dir / "result").unlink(missing_ok=True)
            child = self._spawn(self._bootstrap(), app_dir, env)
            code = child.wait()
            outcome = Outcome(code == 0, self._reason(code))
        if self.stopped.is_set():
            self._report("TASK_KILLED", None)
        elif outcome.ok:
            self._report("TASK_FINISHED", None)
        else:
            raise TaskFailed(outcome.message)

    def _reason(self, code: int) -> str:
        if code == 0:
            return ""
        try:
            result = (self.dir / "result").read_text(encoding="utf-8").strip()
        except OSError:
            result = ""
        return result or f"{describe_exit(code)}: {tail(self.dir / 'stderr')}".rstrip(": ")

    def _run_script(self, data: TaskData, app_dir: Path, shards: list[ShardingContext]) -> Outcome:
        command_line = data.job_config.script_command_line.strip()
        if not command_line:
            raise TaskFailed(f"job {data.job_config.job_name} has no scriptCommandLine")
        errors = []
        for shard in shards:
            try:
                argv = script_argv(command_line, app_dir, shard)
            except ValueError as exc:
                raise TaskFailed(f"scriptCommandLine cannot be split: {exc}") from None
            try:
                child = self._spawn(argv, app_dir, self._environment(app_dir, [shard]))
            except OSError as exc:
                raise TaskFailed(f"cannot run {argv[0]!r}: {exc}") from None
            code = child.wait()
            if self.stopped.is_set():
                break
            if code != 0:
                errors.append(
                    f"item {shard.sharding_item}: {describe_exit(code)}: {tail(self.dir / 'stderr')}"
                )
        return Outcome(not errors, "; ".join(errors))

    # -- DAEMON -----------------------------------------------------------------------------------

    def _run_daemon(self, data: TaskData, app_dir: Path) -> None:
        jc = data.job_config
        try:
            next_fire = self.env.next_fire_factory(jc.cron, jc.time_zone)
        except (InvalidConfig, ValueError) as exc:
            raise TaskFailed(f"bad cron {jc.cron!r} ({jc.time_zone or 'default time zone'}): {exc}") from None
        shards = shard_contexts(data)
        execute: Callable[[], Outcome]
        if jc.job_type == "SCRIPT":
            execute = lambda: self._run_script(data, app_dir, shards)  # noqa: E731
        else:
            execute = self._start_warm(data, app_dir, shards).execute

        def report_running(message: str) -> None:
            if not self.stopped.is_set():
                self._report("TASK_RUNNING", message)

        schedule = DaemonSchedule(
            next_fire,
            self.env.clock,
            execute,
            report_running,
            misfire=jc.misfire,
            sampling=self._sampling(data),
        )
        try:
            run_daemon(schedule, self.stopped)
        finally:
            if self._warm is not None:
                self._warm.close(self.env.kill_grace)
        self._report("TASK_KILLED", None)

    def _sampling(self, data: TaskData) -> int:
        """``jobEventSamplingCount`` of the task, else the app's ``eventTraceSamplingCount``."""
        assert self.env.workspace is not None  # a task without an app fails before it gets here
        return (
            data.sharding_context.job_event_sampling_count
            or self.env.workspace.app.event_trace_sampling_count
        )

    def _start_warm(self, data: TaskData, app_dir: Path, shards: list[ShardingContext]) -> WarmProcess:
        warm = WarmProcess(
            self._bootstrap(),
            cwd=app_dir,
            env=self._job_environment(data, app_dir, shards),
            stdout=self.dir / "stdout",
            stderr=self.dir / "stderr",
        )
        with self._lock:
            if self.stopped.is_set():
                raise TaskFailed("killed")
            self._warm = warm
        try:
            warm.start()
        except WarmStartError as exc:
            raise TaskFailed(str(exc)) from None
        return warm
