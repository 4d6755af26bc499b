"""Conformance: golden JSON bodies for every scheduler and executor call and event kind, over raw
HTTP (no pymesos), plus the status codes for malformed calls. Volatile values (ids, uuids,
timestamps) are matched by the named placeholders of ``assert_matches``; everything else is exact."""

from __future__ import annotations

import base64
import http.client
import time

import pytest
from lmhelpers import RawStream, assert_matches, post, wait_until

RESOURCES = "cpus:2;mem:1024;disk:100;ports:[31000-31009]"
SCHED = "/api/v1/scheduler"
EXEC = "/api/v1/executor"
FRAMEWORK_INFO = {
    "user": "u",
    "name": "golden",
    "hostname": "h",
    "failover_timeout": 100,
    "capabilities": [{"type": "GPU_RESOURCES"}],
}
EXECUTOR_INFO = {
    "executor_id": {"value": "e1"},
    "name": "e1",
    "command": {"value": "sleep 60"},
    "resources": [
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}},
    ],
}
ID = {"value": "<id>"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def uuid_b64() -> str:
    import uuid

    return base64.b64encode(uuid.uuid4().bytes).decode()


def offer_golden(executor_ids=()):
    res = [dict(r, allocation_info={"role": "*"}) for r in _agent_resources()]
    return {
        "id": ID,
        "framework_id": ID,
        "agent_id": ID,
        "hostname": "127.0.0.1",
        "url": {
            "scheme": "http",
            "address": {"hostname": "127.0.0.1", "ip": "127.0.0.1", "port": "<int>"},
            "path": "/slave(1)",
        },
        "resources": res,
        "attributes": [],
        "executor_ids": [{"value": e} for e in executor_ids],
        "allocation_info": {"role": "*"},
    }


class Session:
    """A raw scheduler subscription and a helper to post calls on its stream."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.stream = RawStream(
            cluster.master_url, SCHED, {"type": "SUBSCRIBE", "subscribe": {"framework_info": FRAMEWORK_INFO}}
        )
        self.subscribed = self.stream.next_of("SUBSCRIBED")
        self.fid = self.subscribed["subscribed"]["framework_id"]["value"]
        self.stream_id = self.stream.headers["mesos-stream-id"]

    def call(self, kind: str, body: dict | None = None, headers: dict | None = None):
        payload = {"type": kind, "framework_id": {"value": self.fid}}
        if body is not None:
            payload[kind.lower()] = body
        all_headers = {"Mesos-Stream-Id": self.stream_id}
        all_headers.update(headers or {})
        return post(self.cluster.master_url, SCHED, payload, all_headers)

    def accepted(self, kind: str, body: dict | None = None) -> None:
        status, headers, payload = self.call(kind, body)
        assert (status, headers.get("content-length"), payload) == (202, "0", b""), (kind, status, payload)


@pytest.fixture
def session(make_cluster):
    cluster = make_cluster(resources=RESOURCES, heartbeat_interval=0.5)
    s = Session(cluster)
    yield s
    s.stream.close()


def test_subscribe_stream_framing_and_first_events(session):
    stream = session.stream
    assert stream.status == 200
    assert stream.headers["transfer-encoding"] == "chunked"
    assert stream.headers["content-type"] == "application/json"
    assert session.stream_id
    assert_matches(
        {
            "type": "SUBSCRIBED",
            "subscribed": {
                "framework_id": ID,
                "heartbeat_interval_seconds": 0.5,
                "master_info": {
                    "id": "<id>",
                    "ip": 16777343,
                    "port": "<int>",
                    "pid": "<str>",
                    "hostname": "127.0.0.1",
                    "version": "1.11.0",
                    "address": {"hostname": "127.0.0.1", "ip": "127.0.0.1", "port": "<int>"},
                },
            },
        },
        session.subscribed,
    )
    assert_matches({"type": "OFFERS", "offers": {"offers": [offer_golden()]}}, stream.next_of("OFFERS"))
    assert_matches({"type": "HEARTBEAT"}, stream.next_of("HEARTBEAT", skip=("OFFERS",)))


def test_golden_bodies_through_a_task_lifecycle(session):
    cluster, stream = session.cluster, session.stream
    offer = stream.next_of("OFFERS")["offers"]["offers"][0]
    agent_id = offer["agent_id"]["value"]
    task = {
        "name": "t1",
        "task_id": {"value": "t1"},
        "agent_id": {"value": agent_id},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}}],
        "executor": EXECUTOR_INFO,
    }
    launch = {"type": "LAUNCH", "launch": {"task_infos": [task]}}
    session.accepted(
        "ACCEPT", {"offer_ids": [offer["id"]], "operations": [launch], "filters": {"refuse_seconds": 0}}
    )

    # the test plays the executor that the agent started ("sleep 60" never subscribes itself)
    agent = cluster.agents[0]
    wait_until(lambda: "e1" in {eid for (_, eid) in agent.executors})
    ex = _executor_stream(agent, session.fid)
    assert (
        ex.status == 200
        and ex.headers["transfer-encoding"] == "chunked"
        and "mesos-stream-id" not in ex.headers
    )
    framework_info = dict(FRAMEWORK_INFO, id={"value": session.fid})
    executor_info = dict(EXECUTOR_INFO, framework_id={"value": session.fid})
    assert_matches(
        {
            "type": "SUBSCRIBED",
            "subscribed": {
                "executor_info": executor_info,
                "framework_info": framework_info,
                "agent_info": {
                    "id": {"value": agent_id},
                    "hostname": "127.0.0.1",
                    "port": agent.port,
                    "resources": _agent_resources(),
                    "attributes": [],
                },
                "container_id": ID,
            },
        },
        ex.next_of("SUBSCRIBED"),
    )
    assert_matches(
        {
            "type": "LAUNCH",
            "launch": {"task": dict(task, executor=executor_info), "framework_info": framework_info},
        },
        ex.next_of("LAUNCH"),
    )

    # executor UPDATE → 202, ACKNOWLEDGED to the executor, UPDATE to the scheduler with ids filled in
    status = {
        "task_id": {"value": "t1"},
        "state": "TASK_RUNNING",
        "timestamp": 1.5,
        "uuid": uuid_b64(),
        "source": "SOURCE_EXECUTOR",
    }
    update = {
        "type": "UPDATE",
        "framework_id": {"value": session.fid},
        "executor_id": {"value": "e1"},
        "update": {"status": status},
    }
    code, headers, body = post(agent.url, EXEC, update)
    assert (code, headers["content-length"], body) == (202, "0", b"")
    assert_matches(
        {"type": "ACKNOWLEDGED", "acknowledged": {"task_id": {"value": "t1"}, "uuid": status["uuid"]}},
        ex.next_of("ACKNOWLEDGED"),
    )
    forwarded = stream.next_of("UPDATE", skip=("HEARTBEAT", "OFFERS"))
    assert_matches(
        {
            "type": "UPDATE",
            "update": {"status": dict(status, agent_id={"value": agent_id}, executor_id={"value": "e1"})},
        },
        forwarded,
    )
    session.accepted(
        "ACKNOWLEDGE", {"agent_id": {"value": agent_id}, "task_id": {"value": "t1"}, "uuid": status["uuid"]}
    )
    wait_until(lambda: not cluster.pending_status_updates())

    # MESSAGE both ways
    msg = {
        "type": "MESSAGE",
        "framework_id": {"value": session.fid},
        "executor_id": {"value": "e1"},
        "message": {"data": b64("up")},
    }
    assert post(agent.url, EXEC, msg)[0] == 202
    assert_matches(
        {
            "type": "MESSAGE",
            "message": {"agent_id": {"value": agent_id}, "executor_id": {"value": "e1"}, "data": b64("up")},
        },
        stream.next_of("MESSAGE", skip=("HEARTBEAT", "OFFERS")),
    )
    session.accepted(
        "MESSAGE", {"agent_id": {"value": agent_id}, "executor_id": {"value": "e1"}, "data": b64("down")}
    )
    assert_matches({"type": "MESSAGE", "message": {"data": b64("down")}}, ex.next_of("MESSAGE"))

    # KILL goes to the executor
    session.accepted("KILL", {"task_id": {"value": "t1"}})
    assert_matches({"type": "KILL", "kill": {"task_id": {"value": "t1"}}}, ex.next_of("KILL"))

    # RECONCILE: known task (latest state, no uuid) and unknown task (TASK_LOST)
    session.accepted("RECONCILE", {"tasks": [{"task_id": {"value": "t1"}}, {"task_id": {"value": "ghost"}}]})
    assert_matches(
        {
            "type": "UPDATE",
            "update": {
                "status": {
                    "task_id": {"value": "t1"},
                    "state": "TASK_RUNNING",
                    "source": "SOURCE_MASTER",
                    "reason": "REASON_RECONCILIATION",
                    "message": "Reconciliation: Latest task state",
                    "timestamp": "<float>",
                    "agent_id": {"value": agent_id},
                    "executor_id": {"value": "e1"},
                }
            },
        },
        stream.next_of("UPDATE", skip=("HEARTBEAT", "OFFERS")),
    )
    assert_matches(
        {
            "type": "UPDATE",
            "update": {
                "status": {
                    "task_id": {"value": "ghost"},
                    "state": "TASK_LOST",
                    "source": "SOURCE_MASTER",
                    "reason": "REASON_RECONCILIATION",
                    "message": "Reconciliation: Task is unknown",
                    "timestamp": "<float>",
                }
            },
        },
        stream.next_of("UPDATE", skip=("HEARTBEAT", "OFFERS")),
    )

    # operations: reconcile gives UPDATE_OPERATION_STATUS; acknowledging one is accepted
    session.accepted("RECONCILE_OPERATIONS", {"operations": [{"operation_id": {"value": "op1"}}]})
    assert_matches(
        {
            "type": "UPDATE_OPERATION_STATUS",
            "update_operation_status": {
                "status": {"operation_id": {"value": "op1"}, "state": "OPERATION_UNKNOWN"}
            },
        },
        stream.next_of("UPDATE_OPERATION_STATUS", skip=("HEARTBEAT", "OFFERS")),
    )
    session.accepted("ACKNOWLEDGE_OPERATION_STATUS", {"uuid": uuid_b64(), "operation_id": {"value": "op1"}})

    # maintenance: INVERSE_OFFERS, RESCIND_INVERSE_OFFER, accept/decline answered 202
    inverse_golden = {
        "id": ID,
        "url": offer_golden()["url"],
        "framework_id": {"value": session.fid},
        "agent_id": {"value": agent_id},
        "unavailability": {"start": {"nanoseconds": "<int>"}},
    }
    cluster.start_maintenance(agent_id)
    event = stream.next_of("INVERSE_OFFERS", skip=("HEARTBEAT", "OFFERS"))
    assert_matches({"type": "INVERSE_OFFERS", "inverse_offers": {"inverse_offers": [inverse_golden]}}, event)
    cluster.end_maintenance(agent_id)
    assert_matches(
        {
            "type": "RESCIND_INVERSE_OFFER",
            "rescind_inverse_offer": {"inverse_offer_id": event["inverse_offers"]["inverse_offers"][0]["id"]},
        },
        stream.next_of("RESCIND_INVERSE_OFFER", skip=("HEARTBEAT", "OFFERS")),
    )
    for kind in ("ACCEPT_INVERSE_OFFERS", "DECLINE_INVERSE_OFFERS"):
        cluster.start_maintenance(agent_id)
        inverse = stream.next_of("INVERSE_OFFERS", skip=("HEARTBEAT", "OFFERS"))["inverse_offers"][
            "inverse_offers"
        ][0]
        session.accepted(kind, {"inverse_offer_ids": [inverse["id"]], "filters": {"refuse_seconds": 1}})
        cluster.end_maintenance(agent_id)

    # calls with no event of their own
    session.accepted("REQUEST", {"requests": [{"agent_id": {"value": agent_id}}]})
    session.accepted("SUPPRESS", {"roles": ["*"]})
    session.accepted("REVIVE", {"roles": ["*"]})
    session.accepted("SUPPRESS")
    session.accepted("REVIVE")
    session.accepted("UPDATE_FRAMEWORK", {"framework_info": dict(framework_info, name="renamed")})
    offer = stream.next_of("OFFERS")["offers"]["offers"][0]
    assert [e["value"] for e in offer["executor_ids"]] == ["e1"]
    session.accepted("DECLINE", {"offer_ids": [offer["id"]], "filters": {"refuse_seconds": 0}})

    # a new agent's offer is rescinded when the agent is removed, with an agent FAILURE
    extra = cluster.add_agent()
    offer = _offer_from(stream, extra.agent_id)
    cluster.remove_agent(extra.agent_id)
    assert_matches(
        {"type": "RESCIND", "rescind": {"offer_id": offer["id"]}},
        stream.next_of("RESCIND", skip=("HEARTBEAT", "OFFERS")),
    )
    assert_matches(
        {"type": "FAILURE", "failure": {"agent_id": {"value": extra.agent_id}}},
        stream.next_of("FAILURE", skip=("HEARTBEAT", "OFFERS")),
    )

    # SHUTDOWN of the executor: SHUTDOWN event, then (grace period) the process dies: FAILURE with its status
    session.accepted("SHUTDOWN", {"executor_id": {"value": "e1"}, "agent_id": {"value": agent_id}})
    assert_matches({"type": "SHUTDOWN"}, ex.next_of("SHUTDOWN"))
    skip = ("HEARTBEAT", "OFFERS", "UPDATE")
    assert_matches(
        {
            "type": "FAILURE",
            "failure": {"agent_id": {"value": agent_id}, "executor_id": {"value": "e1"}, "status": 9},
        },
        stream.next_of("FAILURE", skip=skip),
    )

    # TEARDOWN ends the stream; the framework cannot subscribe again (ERROR)
    session.accepted("TEARDOWN")
    with pytest.raises(EOFError):
        while True:
            stream.next_event()
    again = RawStream(
        cluster.master_url,
        SCHED,
        {
            "type": "SUBSCRIBE",
            "framework_id": {"value": session.fid},
            "subscribe": {"framework_info": dict(FRAMEWORK_INFO, id={"value": session.fid})},
        },
    )
    assert_matches({"type": "ERROR", "error": {"message": "Framework has been removed"}}, again.next_event())
    again.close()
    ex.close()


def _agent_resources():
    return [
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 2.0}, "role": "*"},
        {"name": "disk", "type": "SCALAR", "scalar": {"value": 100.0}, "role": "*"},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": 1024.0}, "role": "*"},
        {
            "name": "ports",
            "type": "RANGES",
            "ranges": {"range": [{"begin": 31000, "end": 31009}]},
            "role": "*",
        },
    ]


def _offer_from(stream, agent_id):
    while True:
        event = stream.next_of("OFFERS", skip=("HEARTBEAT", "UPDATE"))
        for offer in event["offers"]["offers"]:
            if offer["agent_id"]["value"] == agent_id:
                return offer


BAD_SCHEDULER_CALLS = [
    ("not json", b"{nope", 400),
    ("json array", b"[]", 400),
    ("no type", {"framework_id": "<fid>"}, 400),
    ("unknown type", {"type": "DANCE", "framework_id": "<fid>"}, 400),
    ("no framework_id", {"type": "REVIVE"}, 400),
    ("accept without body", {"type": "ACCEPT", "framework_id": "<fid>"}, 400),
    (
        "task without agent_id",
        {
            "type": "ACCEPT",
            "framework_id": "<fid>",
            "accept": {
                "offer_ids": [{"value": "o"}],
                "operations": [
                    {"type": "LAUNCH", "launch": {"task_infos": [{"name": "t", "task_id": {"value": "t"}}]}}
                ],
            },
        },
        400,
    ),
    (
        "offer id not an object",
        {"type": "DECLINE", "framework_id": "<fid>", "decline": {"offer_ids": ["o"]}},
        400,
    ),
    (
        "ack with bad uuid",
        {
            "type": "ACKNOWLEDGE",
            "framework_id": "<fid>",
            "acknowledge": {"agent_id": {"value": "a"}, "task_id": {"value": "t"}, "uuid": "short"},
        },
        400,
    ),
    (
        "message not base64",
        {
            "type": "MESSAGE",
            "framework_id": "<fid>",
            "message": {"agent_id": {"value": "a"}, "executor_id": {"value": "e"}, "data": "@@@"},
        },
        400,
    ),
    ("kill without task", {"type": "KILL", "framework_id": "<fid>", "kill": {}}, 400),
    (
        "reconcile tasks not a list",
        {"type": "RECONCILE", "framework_id": "<fid>", "reconcile": {"tasks": {}}},
        400,
    ),
    ("subscribe without user", {"type": "SUBSCRIBE", "subscribe": {"framework_info": {"name": "x"}}}, 400),
    (
        "subscribe with differing ids",
        {
            "type": "SUBSCRIBE",
            "framework_id": {"value": "a"},
            "subscribe": {"framework_info": {"user": "u", "name": "x", "id": {"value": "b"}}},
        },
        400,
    ),
    ("unknown framework", {"type": "REVIVE", "framework_id": {"value": "nobody"}}, 400),
]


@pytest.mark.parametrize("name,body,expected", BAD_SCHEDULER_CALLS, ids=[c[0] for c in BAD_SCHEDULER_CALLS])
def test_malformed_scheduler_calls_are_rejected_and_nothing_breaks(session, name, body, expected):
    if isinstance(body, dict):
        body = {k: ({"value": session.fid} if v == "<fid>" else v) for k, v in body.items()}
    status, _, payload = post(
        session.cluster.master_url,
        SCHED,
        body,
        {"Mesos-Stream-Id": session.stream_id} if "SUBSCRIBE" not in str(body) else None,
    )
    assert status == expected, payload
    assert payload  # a message, never an empty 400
    session.accepted("REVIVE")  # the master still serves the subscribed framework
    session.stream.next_of("OFFERS")


def test_stream_id_and_media_type_rules(session):
    """Master::Http::scheduler (http.cpp), SchedulerHttpApiTest.NoContentType, GetRequest,
    TeardownWrongStreamId, TeardownWithoutStreamId, NotAcceptable, NoAcceptHeader."""
    status, _, payload = session.call("REVIVE", headers={"Mesos-Stream-Id": "stale"})
    assert status == 400 and b"didn't match the stream ID" in payload
    status, _, _ = post(
        session.cluster.master_url, SCHED, {"type": "REVIVE", "framework_id": {"value": session.fid}}
    )
    assert status == 400  # no Mesos-Stream-Id header at all, as the real master answers
    status, _, payload = session.call("REVIVE", headers={"Content-Type": "application/x-protobuf"})
    assert (status, payload) == (400, b"Failed to parse body into Call protobuf")  # JSON is no protobuf
    status, _, _ = post(
        session.cluster.master_url, SCHED, b"\x08\x06", {"Content-Type": "application/x-protobuf"}
    )
    assert status == 415  # well-formed protobuf: not emulated, refused plainly
    status, _, _ = session.call("REVIVE", headers={"Content-Type": "text/plain"})
    assert status == 415
    conn = http.client.HTTPConnection(session.cluster.master_url, timeout=10)
    conn.request("POST", SCHED, body=b"{}")  # http.client adds no Content-Type of its own
    response = conn.getresponse()
    assert (response.status, response.read()) == (400, b"Expecting 'Content-Type' to be present")
    conn.request("GET", SCHED)
    response = conn.getresponse()
    assert response.status == 405 and response.getheader("Allow") == "POST"
    response.read()
    conn.close()
    # Accept is checked for SUBSCRIBE (and RECONCILE_OPERATIONS) only
    assert session.call("REVIVE", headers={"Accept": "text/html"})[0] == 202
    status, _, _ = post(
        session.cluster.master_url,
        SCHED,
        {"type": "SUBSCRIBE", "subscribe": {"framework_info": FRAMEWORK_INFO}},
        {"Accept": "text/html"},
    )
    assert status == 406
    status, _, _ = post(
        session.cluster.master_url,
        SCHED,
        {"type": "SUBSCRIBE", "subscribe": {"framework_info": FRAMEWORK_INFO}},
        {"Mesos-Stream-Id": "x"},
    )
    assert status == 400
    session.stream.close()
    wait_until(lambda: not session.cluster.master.frameworks[session.fid].connected)
    assert session.call("REVIVE")[0] == 403  # not subscribed any more


def test_subscribe_ids_must_agree_and_suppressed_roles_come_from_the_call(session):
    """validation.cpp ``scheduler::call::validate`` (framework_id vs framework_info.id, either one
    alone too); master.cpp ``Master::subscribe`` takes ``subscribe.suppressed_roles``."""
    status, _, payload = post(
        session.cluster.master_url,
        SCHED,
        {
            "type": "SUBSCRIBE",
            "framework_id": {"value": session.fid},
            "subscribe": {"framework_info": FRAMEWORK_INFO},
        },
    )
    assert status == 400 and b"differs from" in payload
    info = dict(FRAMEWORK_INFO, suppressed_roles=["*"])  # in FrameworkInfo: no effect
    loud = RawStream(
        session.cluster.master_url, SCHED, {"type": "SUBSCRIBE", "subscribe": {"framework_info": info}}
    )
    loud.next_of("SUBSCRIBED")
    quiet = RawStream(
        session.cluster.master_url,
        SCHED,
        {"type": "SUBSCRIBE", "subscribe": {"framework_info": FRAMEWORK_INFO, "suppressed_roles": ["*"]}},
    )
    quiet_id = quiet.next_of("SUBSCRIBED")["subscribed"]["framework_id"]["value"]
    with session.cluster.master.lock:
        assert session.cluster.master.frameworks[quiet_id].suppressed
    loud.close()
    quiet.close()


def test_heartbeat_follows_subscribed_and_keeps_its_schedule(make_cluster):
    """master.cpp ``Master::Framework`` heartbeater: a HEARTBEAT right after SUBSCRIBED, then every
    interval even while other events flow (SchedulerHttpApiTest.Subscribe expects it first)."""
    cluster = make_cluster(heartbeat_interval=0.6, allocation_interval=0.05)
    stream = RawStream(
        cluster.master_url, SCHED, {"type": "SUBSCRIBE", "subscribe": {"framework_info": FRAMEWORK_INFO}}
    )
    subscribed = stream.next_event()
    assert subscribed["type"] == "SUBSCRIBED"
    assert stream.next_event()["type"] == "HEARTBEAT"
    fid = subscribed["subscribed"]["framework_id"]
    headers = {"Mesos-Stream-Id": stream.headers["mesos-stream-id"]}
    beats, offers, deadline = 0, 0, time.monotonic() + 2.0
    while time.monotonic() < deadline:  # offers every 50 ms, declined at once: steady traffic
        event = stream.next_event()
        if event["type"] == "HEARTBEAT":
            beats += 1
        elif event["type"] == "OFFERS":
            offers += 1
            ids = [o["id"] for o in event["offers"]["offers"]]
            decline = {"offer_ids": ids, "filters": {"refuse_seconds": 0}}
            post(
                cluster.master_url,
                SCHED,
                {"type": "DECLINE", "framework_id": fid, "decline": decline},
                headers,
            )
    assert offers > 10 and beats >= 2
    stream.close()


def test_standby_master_answers_307_and_503_without_a_leader(session, make_cluster):
    """Master::Http::redirect: ``Location: //host:port/path``; 503 "No leader elected"."""
    standby = make_cluster()
    standby.redirect(session.cluster.master_url)
    s = RawStream(
        standby.master_url, SCHED, {"type": "SUBSCRIBE", "subscribe": {"framework_info": FRAMEWORK_INFO}}
    )
    assert s.status == 307 and s.headers["location"] == f"//{session.cluster.master_url}/api/v1/scheduler"
    s.close()
    standby.lose_leadership()
    status, _, payload = post(standby.master_url, SCHED, {"type": "SUBSCRIBE"})
    assert (status, payload) == (503, b"No leader elected")


def test_negative_refuse_seconds_means_the_default(session):
    """hierarchical.cpp: a negative ``refuse_seconds`` is replaced by the default 5 s."""
    offer = session.stream.next_of("OFFERS")["offers"]["offers"][0]
    session.accepted("DECLINE", {"offer_ids": [offer["id"]], "filters": {"refuse_seconds": -1}})
    with session.cluster.master.lock:
        filters = session.cluster.master.frameworks[session.fid].filters[offer["agent_id"]["value"]]
        assert len(filters) == 1 and 4.0 < filters[0].expires - time.monotonic() <= 5.0


def _executor_stream(agent, fid):
    """The executor ``e1`` subscribed to ``agent`` (the test plays it): its event stream."""
    subscribe = {
        "type": "SUBSCRIBE",
        "framework_id": {"value": fid},
        "executor_id": {"value": "e1"},
        "subscribe": {"unacknowledged_tasks": [], "unacknowledged_updates": []},
    }
    return RawStream(agent.url, EXEC, subscribe)


def _executor_call(fid, kind="UPDATE", **overrides):
    status = {
        "task_id": {"value": "t1"},
        "state": "TASK_RUNNING",
        "uuid": uuid_b64(),
        "source": "SOURCE_EXECUTOR",
    }
    status.update(overrides.pop("status", {}))
    for key in overrides.pop("drop", ()):
        status.pop(key)
    call = {
        "type": kind,
        "framework_id": {"value": fid},
        "executor_id": {"value": "e1"},
        "update": {"status": status},
    }
    call.update(overrides)
    return call


BAD_EXECUTOR_CALLS = [
    ("no uuid", dict(drop=("uuid",))),
    ("uuid not 16 bytes", dict(status={"uuid": base64.b64encode(b"1234").decode()})),
    ("staging", dict(status={"state": "TASK_STAGING"})),
    ("unknown state", dict(status={"state": "TASK_DANCING"})),
    ("wrong source", dict(status={"source": "SOURCE_MASTER"})),
    ("other executor id", dict(status={"executor_id": {"value": "other"}})),
    ("no task id", dict(drop=("task_id",))),
    ("unknown executor", dict(executor_id={"value": "nobody"})),
    ("no framework id", dict(framework_id={})),
    ("bad type", dict(type="DANCE")),
    ("message not base64", dict(type="MESSAGE", message={"data": "@@"})),
]


@pytest.mark.parametrize("name,overrides", BAD_EXECUTOR_CALLS, ids=[c[0] for c in BAD_EXECUTOR_CALLS])
def test_malformed_executor_calls_are_rejected(session, name, overrides):
    stream = session.stream
    offer = stream.next_of("OFFERS")["offers"]["offers"][0]
    task = {
        "name": "t1",
        "task_id": {"value": "t1"},
        "agent_id": offer["agent_id"],
        "executor": EXECUTOR_INFO,
        "resources": [],
    }
    session.accepted(
        "ACCEPT",
        {"offer_ids": [offer["id"]], "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}]},
    )
    agent = session.cluster.agents[0]
    wait_until(lambda: agent.executors)
    status, _, payload = post(agent.url, EXEC, _executor_call(session.fid, **overrides))
    assert status == 400 and payload
    # Http::executor: calls before SUBSCRIBE are forbidden, HEARTBEAT is always accepted
    status, _, payload = post(agent.url, EXEC, _executor_call(session.fid))
    assert (status, payload) == (403, b"Executor is not subscribed")
    assert post(agent.url, EXEC, {"type": "HEARTBEAT"})[0] == 202
    executor = _executor_stream(agent, session.fid)
    executor.next_of("SUBSCRIBED")
    assert post(agent.url, EXEC, _executor_call(session.fid))[0] == 202  # the agent still works
    assert (
        stream.next_of("UPDATE", skip=("HEARTBEAT", "OFFERS"))["update"]["status"]["state"] == "TASK_RUNNING"
    )
    executor.close()
