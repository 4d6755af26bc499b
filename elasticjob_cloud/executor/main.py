"""Entry point of ``elasticjob-cloud-executor``, started by a Mesos agent in the executor sandbox.

Configuration comes from the agent's environment (``MESOS_*``, read by pymesos) and a few
optional variables:

``ELASTICJOB_CLOUD_APP_CACHE_DIR``       agent-wide app cache (default: next to the agent's work dir)
``ELASTICJOB_CLOUD_KILL_GRACE_SECONDS``  SIGTERM → SIGKILL grace for a killed job (default 3)
``ELASTICJOB_CLOUD_MAX_DOWNLOAD_MB`` / ``…_MAX_EXTRACTED_MB`` / ``…_MAX_FILES`` /
``ELASTICJOB_CLOUD_DOWNLOAD_TIMEOUT``    app fetch limits (see :class:`~.archive.Limits`)
``ELASTICJOB_CLOUD_EXECUTOR_LOG_LEVEL``  default INFO

With ``ELASTICJOB_CLOUD_TASK_DATA`` set it is not an executor but a TRANSIENT SCRIPT job's command
task (:mod:`~elasticjob_cloud.executor.command_task`), run by the Mesos command executor.

The idle timeout comes from ``ExecutorInfo.data`` (``executorIdleTimeoutSeconds``, the scheduler's
``executor_idle_timeout_seconds`` setting).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path


def _sandbox() -> Path:
    return Path(os.environ.get("MESOS_SANDBOX") or os.environ.get("MESOS_DIRECTORY") or os.getcwd())


def _duration(text: str) -> float | None:
    """A Mesos duration (``5secs``, ``500ms``, ``1mins``) in seconds, or None."""
    units = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "secs": 1.0, "mins": 60.0, "hrs": 3600.0}
    for unit, factor in units.items():
        if text.endswith(unit):
            try:
                return float(text[: -len(unit)]) * factor
            except ValueError:
                return None
    return None


def main() -> int:
    logging.basicConfig(
        level=getattr(
            logging, os.environ.get("ELASTICJOB_CLOUD_EXECUTOR_LOG_LEVEL", "INFO").upper(), logging.INFO
        ),
        format="%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    kill_grace = float(os.environ.get("ELASTICJOB_CLOUD_KILL_GRACE_SECONDS", "3"))
    from elasticjob_cloud.executor import command_task

    if command_task.is_command_task(os.environ):
        return command_task.run(os.environ, _sandbox(), kill_grace)
    for required in ("MESOS_AGENT_ENDPOINT", "MESOS_FRAMEWORK_ID", "MESOS_EXECUTOR_ID"):
        if not os.environ.get(required):
            logging.getLogger(__name__).error(
                "%s is not set: this program is started by a Mesos agent", required
            )
            return 2

    from elasticjob_cloud.executor import driver  # pymesos: imported here, on the main thread
    from elasticjob_cloud.executor.archive import Limits
    from elasticjob_cloud.executor.fetch import AppCache, default_cache_dir
    from elasticjob_cloud.executor.service import ExecutorService

    sandbox = _sandbox()
    shutdown_grace = _duration(os.environ.get("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", ""))

    def factory(reporter: driver.DriverReporter) -> ExecutorService:
        return ExecutorService(
            reporter,
            sandbox,
            cache=AppCache(default_cache_dir(sandbox)),
            limits=Limits.from_env(),
            kill_grace=kill_grace,
            shutdown_grace=shutdown_grace,
        )

    return driver.run(factory)


if __name__ == "__main__":
    sys.exit(main())
