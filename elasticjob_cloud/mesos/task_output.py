"""The tail of a task's ``stdout``/``stderr``, read through its agent's ``/files/read``.

A task of ours keeps its job's output in ``{executor sandbox}/tasks/{task_dir_name}/``, under the
framework executor and under the command executor alike (``executor.task``). To read it: the task
ID names its agent (``TaskId.agent_id``); the master's ``/state`` gives that agent's address; the
agent's ``/state`` gives the sandbox ``directory`` of the executor that ran the task (running,
queued or completed); then two ``/files/read`` calls: ``offset=-1`` for the size, and the last
``length`` bytes. Every call has a short timeout.

Errors: the master unreachable → ``MesosUnavailable`` (503, as ``/api/operate/sandbox``); the
agent unreachable or answering an error → ``AgentUnavailable`` (502), too slow → ``AgentTimeout``
(504); an agent no longer in the master's state, a task the agent does not list (its sandbox may
be gone), or a file not written yet → ``NotFound`` (404).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from ..core.taskdata import task_dir_name
from ..exceptions import AgentTimeout, AgentUnavailable, NotFound
from .master_state import State, agent_address, fetch_state

TIMEOUT = 3.0
MAX_LENGTH = 65_536  # a Mesos agent reads at most 16 pages per call
FILES = ("stdout", "stderr")

Get = Callable[[str, float], Any]


def agent_get(url: str, timeout: float) -> Any:
    """GET a JSON document from an agent; 404 → NotFound, other failures → 502 / 504."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    where = url.split("?", 1)[0]
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise NotFound(f"the agent has no such file ({where})") from None
        detail = exc.read(300).decode("utf-8", "replace").strip()
        raise AgentUnavailable(f"agent {where} answered HTTP {exc.code}: {detail}") from None
    except TimeoutError as exc:
        raise AgentTimeout(f"agent {where} did not answer within {timeout:g}s: {exc}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise AgentTimeout(f"agent {where} did not answer within {timeout:g}s") from None
        raise AgentUnavailable(f"agent {where} unreachable: {exc.reason}") from None
    except (OSError, ValueError) as exc:
        raise AgentUnavailable(f"agent {where} unreachable or unreadable: {exc}") from None


def _executors(agent_state: State, framework_id: str) -> Iterator[State]:
    for framework in [
        *(agent_state.get("frameworks") or []),
        *(agent_state.get("completed_frameworks") or []),
    ]:
        if framework.get("id") == framework_id:
            yield from framework.get("completed_executors") or []
            yield from framework.get("executors") or []


def task_directory(agent_state: State, framework_id: str, task_id: str) -> str | None:
    """The sandbox ``directory`` of the executor that runs or ran ``task_id`` (the newest run)."""
    found = None
    for executor in _executors(agent_state, framework_id):
        for kind in ("tasks", "queued_tasks", "completed_tasks"):
            if any(isinstance(t, dict) and t.get("id") == task_id for t in executor.get(kind) or []):
                found = str(executor.get("directory") or "") or found
    return found


def read_tail(
    master_url: str,
    framework_id: str,
    task_id: str,
    agent_id: str,
    file: str,
    length: int,
    timeout: float = TIMEOUT,
    get: Get = agent_get,
) -> dict[str, Any]:
    """``{"taskId", "file", "hostname", "path", "size", "offset", "data"}``: the last ``length``
    bytes of the task's ``file`` (``offset`` is where ``data`` starts in it)."""
    if file not in FILES:
        raise ValueError(file)
    master = fetch_state(master_url, timeout)
    address = agent_address(master, agent_id)
    if address is None:
        raise NotFound(f"agent {agent_id} of task {task_id} is not in the Mesos master's state")
    agent = get(f"http://{address}/state", timeout)
    directory = task_directory(agent if isinstance(agent, dict) else {}, framework_id, task_id)
    if directory is None:
        raise NotFound(f"agent {agent_id} does not list task {task_id} (finished long ago, or not launched)")
    path = f"{directory}/tasks/{task_dir_name(task_id)}/{file}"
    base = f"http://{address}/files/read?path={urllib.parse.quote(path, safe='/')}"
    size = _offset(get(f"{base}&offset=-1", timeout))
    start = max(0, size - length)
    answer = get(f"{base}&offset={start}&length={min(length, size - start)}", timeout)
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, str):
        raise AgentUnavailable(f"agent {address} answered /files/read without data")
    return {
        "taskId": task_id,
        "file": file,
        "hostname": str(agent.get("hostname", "")) if isinstance(agent, dict) else "",
        "path": path,
        "size": size,
        "offset": start,
        "data": data,
    }


def _offset(answer: Any) -> int:
    offset = answer.get("offset") if isinstance(answer, dict) else None
    if not isinstance(offset, int) or offset < 0:
        raise AgentUnavailable(f"agent answered /files/read with {str(answer)[:200]}")
    return offset
