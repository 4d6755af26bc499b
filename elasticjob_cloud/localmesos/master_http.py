"""The master's HTTP endpoint: ``/api/v1/scheduler``, ``/state``, ``/slaves``, ``/version`` and fault injection.

Status codes follow the real master's ``Master::Http::scheduler``: 307 + ``Location:
//host:port/path`` from a standby master, 503 when no master leads; 405 for anything but POST;
400 for a missing ``Content-Type``, a body that is not a valid call, an unknown framework, or a
missing or stale ``Mesos-Stream-Id``; 406 for an ``Accept`` without JSON (SUBSCRIBE and
RECONCILE_OPERATIONS only); 403 when the framework is not subscribed; 202 with
``Content-Length: 0`` for accepted calls; 200 chunked RecordIO for SUBSCRIBE.

``POST /faults/<name>`` (JSON body) is this emulator's own API for tests and demos; see
README.rst, "Local Mesos fidelity", for the list.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from . import scheduler_api
from .httpbase import VERSION, BadRequest, JsonHandler
from .state import agents_state, master_state

if TYPE_CHECKING:
    from .cluster import LocalMesosCluster

logger = logging.getLogger(__name__)

FAULTS = {
    "remove_agent": ("agent_id",),
    "partition_agent": ("agent_id",),
    "heal_agent": ("agent_id",),
    "kill_executor": ("executor_id", "framework_id?"),
    "drop_scheduler_stream": ("framework_id?",),
    "restart_master": ("keep_away?",),
    "mark_gone": ("agent_id",),
    "disconnect_agent": ("agent_id",),
    "add_agent": ("resources?",),
    "start_maintenance": ("agent_id",),
    "end_maintenance": ("agent_id",),
    "redirect": ("to?",),
    "lose_leadership": (),
}


class MasterHandler(JsonHandler):
    @property
    def cluster(self) -> LocalMesosCluster:
        return self.server.owner

    def do_GET(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        master = self.cluster.master
        if path in ("/api/v1/scheduler", "/master/api/v1/scheduler"):
            if self._leads():
                self.send_text(405, "Expecting one of { 'POST' }, but received 'GET'", {"Allow": "POST"})
        elif path in ("/state", "/master/state", "/state.json", "/master/state.json"):
            with master.lock:
                payload = master_state(master)
            self.send_json(200, payload)
        elif path in ("/slaves", "/master/slaves"):
            with master.lock:
                payload = {"slaves": agents_state(master), "recovered_slaves": []}
            self.send_json(200, payload)
        elif path in ("/version", "/master/version"):
            self.send_json(200, {"version": VERSION, "build_user": "localmesos", "git_sha": ""})
        elif path in ("/health", "/master/health"):
            self.send_text(200, "")
        elif path in ("/redirect", "/master/redirect"):
            if master.no_leader:
                self.send_text(503, "No leader elected")
            else:
                leader = master.redirect_to or master.address
                self.send_text(307, "", {"Location": f"//{leader}"})
        elif path == "/faults":
            self.send_json(200, {name: list(args) for name, args in FAULTS.items()})
        else:
            self.send_text(404, "")

    def do_POST(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        try:
            if path in ("/api/v1/scheduler", "/master/api/v1/scheduler"):
                self._scheduler()
            elif path.startswith("/faults/"):
                self._fault(path[len("/faults/") :])
            else:
                self.send_text(404, "")
        except BadRequest as exc:
            self.send_text(400, str(exc))
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception:
            logger.exception("master: request %s failed", path)
            self.send_text(500, "internal error")

    def _leads(self) -> bool:
        """A master that does not lead answers 307 to the leader (``Location: //host:port/path``,
        ``Master::Http::redirect``), or 503 "No leader elected" when it knows none."""
        master = self.cluster.master
        if master.no_leader:
            self.read_body()
            self.send_text(503, "No leader elected")
            return False
        if master.redirect_to:
            self.read_body()
            self.send_text(307, "", {"Location": f"//{master.redirect_to}{self.path}"})
            return False
        return True

    def _scheduler(self) -> None:
        master = self.cluster.master
        if not self._leads() or not self.check_content_type():
            return
        call = self.read_json()
        kind = scheduler_api.validate(call)
        if kind in ("SUBSCRIBE", "RECONCILE_OPERATIONS") and not self.check_accept():
            return
        stream_id = self.headers.get("Mesos-Stream-Id")
        if kind == "SUBSCRIBE":
            if stream_id is not None:
                raise BadRequest("Subscribe calls should not include the 'Mesos-Stream-Id' header")
            framework_id = (call.get("framework_id") or {}).get("value")
            with master.lock:
                stream = master.subscribe(
                    call["subscribe"]["framework_info"],
                    framework_id,
                    call["subscribe"].get("suppressed_roles") or [],
                )
            self.start_stream({"Mesos-Stream-Id": stream.stream_id})
            stream.serve(self.connection, self.wfile)
            return
        framework_id = call["framework_id"]["value"]
        with master.lock:
            framework = master.frameworks.get(framework_id)
            if framework is None:
                raise BadRequest("Framework cannot be found")
            if not framework.connected or framework.stream is None:
                self.send_text(403, "Framework is not subscribed")
                return
            if stream_id is None:
                raise BadRequest("All non-subscribe calls should include the 'Mesos-Stream-Id' header")
            if stream_id != framework.stream.stream_id:
                self.send_text(
                    400,
                    f"The stream ID '{stream_id}' included in this request didn't match the stream ID "
                    f"currently associated with framework ID {framework_id}",
                )
                return
            scheduler_api.handle(master, framework, kind, call)
        self.send_accepted()

    def _fault(self, name: str) -> None:
        if name not in FAULTS:
            self.send_text(404, f"unknown fault {name!r}; GET /faults lists them")
            return
        body = self.read_json() or {}
        if not isinstance(body, dict):
            raise BadRequest("expecting a JSON object")
        kwargs: dict[str, Any] = {}
        for arg in FAULTS[name]:
            key = arg.rstrip("?")
            if key in body:
                if body[key] is not None and not isinstance(body[key], str):
                    raise BadRequest(f"'{key}' must be a string")
                kwargs[key] = body[key]
            elif not arg.endswith("?"):
                raise BadRequest(f"'{key}' is required")
        try:
            result = getattr(self.cluster, name)(**kwargs)
        except KeyError as exc:
            self.send_json(404, {"ok": False, "error": f"not found: {exc.args[0] if exc.args else ''}"})
            return
        except ValueError as exc:  # e.g. add_agent's resources text
            raise BadRequest(str(exc)) from None
        payload: dict[str, Any] = {"ok": True}
        if isinstance(result, str | int):
            payload["result"] = result
        elif result is not None and hasattr(result, "agent_id"):
            payload["result"] = {"agent_id": result.agent_id, "url": result.url}
        self.send_json(200, payload)
