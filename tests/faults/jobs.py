"""The campaign's fixed parts: the checked jobs, the API writer's jobs, the fault kinds."""

from __future__ import annotations

from dataclasses import dataclass

SESSION_TIMEOUT = 4.0  # SchedulerProcess's --zk-session-timeout-seconds
ZK_PAUSE = 15.0
GRACE = 5.0  # SchedulerProcess's --unreachable-grace-seconds
# the master's agent_reregister_timeout (Mesos: 10 min by default): an agent recovered from the
# registry after a master restart that has not re-registered by then is marked unreachable
AGENT_REREGISTER = 6.0


@dataclass(frozen=True)
class CheckedJob:
    name: str
    cron: str
    shards: int
    misfire: bool
    failover: bool
    daemon: bool = False
    sleep: float = 0.3
    overlapping: bool = False  # concurrencyPolicy ALLOW: each run sleeps past the next fire


CHECKED = (
    CheckedJob("fire_mf", "0/2 * * * * ?", 2, misfire=True, failover=True),
    CheckedJob("fire_once", "0/3 * * * * ?", 2, misfire=False, failover=True),
    CheckedJob("fire_nofo", "0/2 * * * * ?", 1, misfire=True, failover=False),
    CheckedJob("daemon", "0/2 * * * * ?", 2, misfire=False, failover=True, daemon=True),
    # runs overlap by construction: two or three of each run at once
    CheckedJob("allow_fo", "0/2 * * * * ?", 2, misfire=True, failover=True, sleep=4.5, overlapping=True),
    CheckedJob("allow_nofo", "0/3 * * * * ?", 1, misfire=False, failover=False, sleep=4.0, overlapping=True),
)
API_JOBS = ("api0", "api1", "api2")
FAULTS = (
    "kill_leader",
    "stop_leader",
    "pause_zk",
    "restart_zk",
    "remove_agent",
    "kill_executor",
    "restart_master",
)


@dataclass
class Fault:
    kind: str
    start: float
    end: float = 0.0
    detail: str = ""
