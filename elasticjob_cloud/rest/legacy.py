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
from .contract import LEGACY_JOB, documented, name_request_body

blueprint = Blueprint("legacy", __name__, url_prefix="/job")


@blueprint.post("/register")
@documented("Prototype API: register a script job with its own app", body=LEGACY_JOB, errors=("409", "413"))
def register() -> Any:
    lifecycle().legacy_register(json_body())
    return no_content()


@blueprint.delete("/unregister")
@documented(
    "Prototype API: remove the job and its app (body = its name)", body=name_request_body(), errors=("413",)
)
def unregister() -> Any:
    lifecycle().legacy_unregister(name_body())
    return no_content()
