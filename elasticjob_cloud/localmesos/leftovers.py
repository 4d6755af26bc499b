"""Processes an earlier local Mesos on the same work dir left behind, ended when it starts again.

A local Mesos killed with SIGKILL cannot stop what it started: its executors (and the processes of
command tasks) run on as orphans until their recovery timeout, and a job's run could then overlap
with its own rerun by the next local Mesos. Its agents can never come back (they lived in the
killed process), so, as a Mesos agent that cannot recover its executors cleans them up
(``--recover=cleanup``), a starting local Mesos kills every process whose ``MESOS_SANDBOX`` lies
under its work dir's ``slaves/``. Linux only (``/proc``); elsewhere nothing is done.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .executors import kill_group

logger = logging.getLogger(__name__)


def _sandbox_processes(slaves_dir: Path) -> dict[int, int]:
    """PID -> process group of every process with a sandbox under ``slaves_dir``."""
    marker = b"MESOS_SANDBOX=" + str(slaves_dir).encode() + b"/"
    found: dict[int, int] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environ = handle.read().split(b"\0")
            if any(var.startswith(marker) for var in environ):
                found[int(entry)] = os.getpgid(int(entry))
        except OSError:
            continue
    return found


def kill_leftovers(work_dir: Path) -> list[int]:
    """Kill the process groups left by an earlier run on ``work_dir``; returns their IDs."""
    own = {os.getpgid(0), os.getpid()}
    groups = sorted({g for g in _sandbox_processes(work_dir / "slaves").values() if g not in own})
    for pgid in groups:
        kill_group(pgid)
    if groups:
        logger.warning("killed %d process group(s) an earlier local Mesos left in %s", len(groups), work_dir)
    return groups
