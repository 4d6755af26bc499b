"""A small client of the Mesos master's and agents' ``/state`` (stdlib HTTP, no pymesos).

Two uses, both the original's (``MesosStateService``): ``GET /api/operate/sandbox?appName=X``
lists where each executor of an app keeps its sandbox, and deleting an app needs the executors to
send ``STOP`` to. An executor belongs to app X when its ID is ``X@-@{agentId}`` (the prefix before
``@-@``) and it runs under our framework ID; the master knows which agent runs it, only the agent
knows its sandbox ``directory`` and its own ``flags.work_dir``.

Parsing is pure (functions over the decoded JSON), fetching is one function, so the decisions are
unit-tested on canned states. The master being unreachable or unreadable is ``MesosUnavailable``
(503); an unreachable *agent* only drops that agent's entries from a sandbox answer (logged), so one
dead agent does not hide every other sandbox.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, NamedTuple

from ..core.models import DELIMITER
from ..exceptions import MesosUnavailable

log = logging.getLogger(__name__)

State = dict[str, Any]
Fetch = Callable[[str, float], State]


class AppExecutor(NamedTuple):
    executor_id: str
    agent_id: str


def state_url(address: str) -> str:
    """``host:port``, ``http://host:port[/]`` or a full ``…/state`` URL → the ``/state`` URL."""
    url = address if "://" in address else f"http://{address}"
    url = url.rstrip("/")
    return url if url.endswith(("/state", "/state.json")) else f"{url}/state"


def fetch_state(url: str, timeout: float = 5.0) -> State:
    """GET the ``/state`` of a master or agent (``url`` as ``state_url`` accepts it)."""
    return fetch_json(state_url(url), timeout)


def fetch_json(target: str, timeout: float = 5.0) -> State:
    """GET a JSON object from a Mesos endpoint (``http://host:port/…``)."""
    request = urllib.request.Request(target, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise MesosUnavailable(f"Mesos {target} answered HTTP {exc.code}") from None
    except (OSError, ValueError) as exc:  # URLError, timeouts and refused connections are OSErrors
        raise MesosUnavailable(f"Mesos {target} unreachable or unreadable: {exc}") from None
    if not isinstance(payload, dict):
        raise MesosUnavailable(f"Mesos {target} answered {type(payload).__name__}, not an object")
    return payload


def _executor_id(executor: State) -> str:
    """The master calls it ``executor_id``, the agent ``id`` (the original reads either)."""
    return str(executor.get("id") or executor.get("executor_id") or "")


def _belongs(executor: State, app_name: str) -> bool:
    return _executor_id(executor).split(DELIMITER, 1)[0] == app_name


def _framework_executors(state: State, framework_id: str, app_name: str) -> list[State]:
    if not framework_id:
        return []
    found: list[State] = []
    for framework in state.get("frameworks") or []:
        if framework.get("id") == framework_id:
            found.extend(e for e in framework.get("executors") or [] if _belongs(e, app_name))
    return found


def app_executors(master_state: State, framework_id: str | None, app_name: str) -> list[AppExecutor]:
    """The live executors of ``app_name`` under our framework, as ``(executor_id, agent_id)``."""
    return [
        AppExecutor(_executor_id(e), str(e.get("slave_id", "")))
        for e in _framework_executors(master_state, framework_id or "", app_name)
    ]


def agent_address(master_state: State, agent_id: str) -> str | None:
    """``host:port`` of an agent, from its ``pid`` (``slave(1)@10.0.0.5:5051``)."""
    for agent in master_state.get("slaves") or []:
        if agent.get("id") == agent_id:
            pid = str(agent.get("pid") or "")
            return pid.split("@", 1)[1] if "@" in pid else None
    return None


def _relative(directory: str, work_dir: str) -> str:
    base = work_dir.rstrip("/")
    return directory[len(base) :] if base and directory.startswith(base + "/") else directory


def sandbox_entries(agent_state: State, framework_id: str, app_name: str) -> list[dict[str, str]]:
    """``{"hostname", "path"}`` of each executor of the app on one agent; ``path`` is relative to
    the agent's ``work_dir`` (the original's shape: ``directory`` minus ``flags.work_dir``)."""
    work_dir = str((agent_state.get("flags") or {}).get("work_dir", ""))
    hostname = str(agent_state.get("hostname", ""))
    return [
        {"hostname": hostname, "path": _relative(str(e.get("directory", "")), work_dir)}
        for e in _framework_executors(agent_state, framework_id, app_name)
    ]


def sandbox(
    master_url: str,
    framework_id: str | None,
    app_name: str,
    timeout: float = 5.0,
    fetch: Fetch = fetch_state,
) -> list[dict[str, str]]:
    """The sandboxes of ``app_name``'s executors; ``[]`` without a framework ID or a match.

    Each agent running one of them is asked once (the original asked once per executor and could
    list an agent's executors twice).
    """
    if not framework_id:
        return []
    master = fetch(master_url, timeout)
    result: list[dict[str, str]] = []
    agents = dict.fromkeys(e.agent_id for e in app_executors(master, framework_id, app_name))
    for agent_id in agents:
        address = agent_address(master, agent_id)
        if address is None:
            log.warning("sandbox of %s: agent %s has no pid in the master's state", app_name, agent_id)
            continue
        try:
            agent = fetch(address, timeout)
        except MesosUnavailable as exc:
            log.warning("sandbox of %s: skipping agent %s: %s", app_name, agent_id, exc.message)
            continue
        result.extend(sandbox_entries(agent, framework_id, app_name))
    return result
