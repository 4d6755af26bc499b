"""The agent's HTTP endpoint: the v1 executor API (``/api/v1/executor``), ``/state`` and ``/files``.

Executor calls are validated as ``validateExecutorCall`` does in a real agent (400 with a
message when any rule fails), updates get ``agent_id``/``executor_id`` filled in, enter the status
update manager, and are answered with an ``ACKNOWLEDGED`` event at once (the agent's ack, not
the scheduler's).
"""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from typing import TYPE_CHECKING, Any

from . import files
from .executors import Executor
from .httpbase import VERSION, BadRequest, JsonHandler
from .records import TASK_STATES
from .state import agent_state
from .streams import EventStream

if TYPE_CHECKING:
    from .agent import Agent

logger = logging.getLogger(__name__)


def _value(obj: Any, key: str) -> str:
    item = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(item, dict) or not isinstance(item.get("value"), str) or not item["value"]:
        raise BadRequest(f"Expecting '{key}' to be present")
    return str(item["value"])


def _b64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise BadRequest(f"Expecting '{what}' to be a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest(f"Invalid base64 in '{what}'") from exc


def validate_update(call: dict[str, Any], executor_id: str) -> dict[str, Any]:
    update = call.get("update")
    if not isinstance(update, dict) or not isinstance(update.get("status"), dict):
        raise BadRequest("Expecting 'update' to be present")
    status = dict(update["status"])
    _value(status, "task_id")
    if status.get("state") not in TASK_STATES:
        raise BadRequest(f"Unknown task state {status.get('state')!r}")
    if status["state"] == "TASK_STAGING":
        raise BadRequest("Received TASK_STAGING from executor")
    if "uuid" not in status:
        raise BadRequest("Expecting 'uuid' to be present")
    if len(_b64(status["uuid"], "uuid")) != 16:
        raise BadRequest("Expecting 'uuid' to be a valid UUID")
    if status.get("source", "SOURCE_EXECUTOR") != "SOURCE_EXECUTOR":
        raise BadRequest("Received Call from executor with invalid source")
    if "executor_id" in status and status["executor_id"] != {"value": executor_id}:
        raise BadRequest("ExecutorID in Call does not match ExecutorID in TaskStatus")
    return status


def subscribe(agent: Agent, executor: Executor, call: dict[str, Any]) -> EventStream:
    """Caller holds the lock. SUBSCRIBED, then LAUNCH for every task queued before it."""
    if executor.stream is not None:
        executor.stream.close_quietly()
    stream = EventStream(str(uuid.uuid4()), agent.config.heartbeat_interval)
    executor.stream = stream

    def closed(s: EventStream, ex: Executor = executor) -> None:
        with agent.lock:
            if ex.stream is s:
                ex.stream = None

    stream.on_closed = closed
    framework_info = dict(agent.frameworks.get(executor.framework_id, {}))
    framework_info["id"] = {"value": executor.framework_id}
    stream.send(
        {
            "type": "SUBSCRIBED",
            "subscribed": {
                "executor_info": executor.info,
                "framework_info": framework_info,
                "agent_info": agent.agent_info(),
                "container_id": {"value": executor.container_id},
            },
        }
    )
    executor.state = "running"
    executor.cancel_timers()
    for task_id, task in list(executor.queued.items()):
        executor.launched[task_id] = task
        stream.send({"type": "LAUNCH", "launch": {"task": task, "framework_info": framework_info}})
    executor.queued.clear()
    subscribe_body = call.get("subscribe") or {}
    for update in subscribe_body.get("unacknowledged_updates") or []:
        status = update.get("status") if isinstance(update, dict) else None
        if isinstance(status, dict) and "uuid" in status:
            agent.new_update(executor.framework_id, _fill(agent, executor, dict(status)))
    return stream


def _fill(agent: Agent, executor: Executor, status: dict[str, Any]) -> dict[str, Any]:
    status["agent_id"] = {"value": agent.agent_id}
    status["executor_id"] = {"value": executor.executor_id}
    status.setdefault("source", "SOURCE_EXECUTOR")
    return status


class AgentHandler(JsonHandler):
    @property
    def agent(self) -> Agent:
        return self.server.owner

    def do_GET(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        if path in ("/state", "/state.json", "/slave(1)/state", "/slave(1)/state.json"):
            with self.agent.lock:
                payload = agent_state(self.agent)
            self.send_json(200, payload)
        elif path == "/version":
            self.send_json(200, {"version": VERSION, "build_user": "localmesos"})
        elif path == "/health":
            self.send_text(200, "")
        elif path in ("/files/read", "/files/browse"):
            self._files(path)
        else:
            self.send_text(404, "")

    def _files(self, path: str) -> None:
        query = self.path.split("?", 1)[1] if "?" in self.path else ""
        try:
            names = self.agent.file_attachments()
            if path == "/files/read":
                self.send_json(200, files.read(names, query))
            else:
                self.send_json(200, files.browse(names, query))
        except files.FilesError as exc:
            self.send_text(exc.status, exc.message)

    def do_POST(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        if path not in ("/api/v1/executor", "/slave(1)/api/v1/executor"):
            self.send_text(404, "")
            return
        try:
            if not self.check_content_type():
                return
            self._executor_call(self.read_json())
        except BadRequest as exc:
            self.send_text(400, str(exc))
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception:
            logger.exception("agent %s: executor call failed", self.agent.agent_id)
            self.send_text(500, "internal error")

    def _executor_call(self, call: Any) -> None:
        if not isinstance(call, dict):
            raise BadRequest("Expecting a JSON object")
        kind = call.get("type")
        if kind not in ("SUBSCRIBE", "UPDATE", "MESSAGE", "HEARTBEAT"):
            raise BadRequest(
                f"Expecting 'type' to be one of SUBSCRIBE, UPDATE, MESSAGE, HEARTBEAT; got {kind!r}"
            )
        if kind == "SUBSCRIBE" and not self.check_accept():
            return
        if kind == "HEARTBEAT":  # accepted before any other check, as the agent does
            self.send_accepted()
            return
        fid, eid = _value(call, "framework_id"), _value(call, "executor_id")
        # the call is validated before the executor is looked up (Http::executor)
        update = validate_update(call, eid) if kind == "UPDATE" else None
        data = ""
        if kind == "MESSAGE":
            message = call.get("message")
            if not isinstance(message, dict):
                raise BadRequest("Expecting 'message' to be present")
            _b64(message.get("data"), "message.data")
            data = message["data"]
        agent = self.agent
        forbidden = False
        with agent.lock:
            executor = agent.executors.get((fid, eid))
            if executor is None or executor.kind != "custom":
                raise BadRequest(f"Executor {eid} of framework {fid} is not known to this agent")
            if executor.state in ("terminated",) or agent.removed:
                raise BadRequest(f"Executor {eid} is terminating")
            if kind != "SUBSCRIBE" and executor.state == "launching":
                forbidden = True
            elif kind == "SUBSCRIBE":
                stream = subscribe(agent, executor, call)
            elif update is not None:
                status = _fill(agent, executor, update)
                if agent.new_update(fid, status) and executor.stream is not None:
                    executor.stream.send(
                        {
                            "type": "ACKNOWLEDGED",
                            "acknowledged": {"task_id": status["task_id"], "uuid": status["uuid"]},
                        }
                    )
            elif not agent.partitioned:
                agent.master.executor_message(agent.agent_id, fid, eid, data)
        if forbidden:
            self.send_text(403, "Executor is not subscribed")
        elif kind == "SUBSCRIBE":
            self.start_stream({})
            stream.serve(self.connection, self.wfile)
        else:
            self.send_accepted()
