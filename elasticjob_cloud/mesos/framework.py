"""The FrameworkInfo this scheduler subscribes with (reference §3.1, plus TASK_KILLING_STATE)."""

from __future__ import annotations

from typing import Any

from ..settings import Settings

FRAMEWORK_NAME = "Elastic-Job-Cloud"
FAILOVER_TIMEOUT = 604800.0  # a week, as the original: tasks survive a long scheduler outage
CAPABILITIES = ("PARTITION_AWARE", "TASK_KILLING_STATE")


def framework_info(settings: Settings, framework_id: str | None, webui_port: int) -> dict[str, Any]:
    """``framework_id`` is the stored ID, reused on every (re)start so running tasks are kept."""
    info: dict[str, Any] = {
        "name": f"{FRAMEWORK_NAME}-{settings.mesos_role}" if settings.mesos_role else FRAMEWORK_NAME,
        "user": settings.user,
        "hostname": settings.hostname,
        "failover_timeout": FAILOVER_TIMEOUT,
        "checkpoint": True,
        "webui_url": f"http://{settings.hostname}:{webui_port}",
        "capabilities": [{"type": capability} for capability in CAPABILITIES],
    }
    if settings.mesos_role:
        info["role"] = settings.mesos_role
    if framework_id:
        info["id"] = {"value": framework_id}
    return info


def master_address(mesos_url: str) -> str:
    """pymesos takes ``zk://…`` as is and ``host:port`` without a scheme."""
    for scheme in ("http://", "https://"):
        if mesos_url.startswith(scheme):
            return mesos_url[len(scheme) :].rstrip("/")
    return mesos_url
