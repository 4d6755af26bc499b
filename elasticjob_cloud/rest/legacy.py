"""The prototype's API (no ``/api`` prefix): one job = one app whose bootstrap script is the job.

``POST /job/register`` with ``{jobName, cron, shardingTotalCount, cpuCount, memoryMB,
dockerImageName, appURL, failover, misfire}`` creates app ``{jobName}`` (that ``appURL``,
bootstrapScript ``bin/start.sh``) and a TRANSIENT SCRIPT job running ``bin/start.sh``;
``DELETE /job/unregister`` (body = the name) removes both.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from .apps import lifecycle
from .bodies import json_body, name_body, no_content

blueprint = Blueprint("legacy", __name__, url_prefix="/job")


@blueprint.post("/register")
def register() -> Any:
    lifecycle().legacy_register(json_body())
    return no_content()


@blueprint.delete("/unregister")
def unregister() -> Any:
    lifecycle().legacy_unregister(name_body())
    return no_content()
