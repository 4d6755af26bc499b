"""Framework lifecycle as the master sees it: SUBSCRIBE, disconnection, failover timeout, removal.

A (re-)subscribing framework gets a new :class:`EventStream` (SUBSCRIBED first, then the updates
its agents still hold and any inverse offers); a stream that goes away starts the failover timer,
and a framework that stays away past it (or sends TEARDOWN) is removed for good: its executors
shut down, its tasks killed, its ID refused from then on. Callers hold the cluster lock (the
stream and timer callbacks take it themselves).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from . import maintenance, offers
from .records import Framework
from .streams import EventStream

if TYPE_CHECKING:
    from .master import Master

logger = logging.getLogger(__name__)

MAX_FAILOVER_TIMEOUT = 365 * 24 * 3600.0


def subscribe(
    master: Master, info: dict[str, Any], framework_id: str | None, suppressed_roles: list[str]
) -> EventStream:
    """Register or re-register a framework; returns the new stream (SUBSCRIBED queued, then a
    HEARTBEAT at once and every interval after, as ``Master::Framework::heartbeat`` sends them)."""
    stream = EventStream(str(uuid.uuid4()), master.config.heartbeat_interval)
    if framework_id and framework_id in master.removed_framework_ids:
        stream.send({"type": "ERROR", "error": {"message": "Framework has been removed"}})
        stream.close()
        return stream
    info = dict(info)
    framework = master.frameworks.get(framework_id) if framework_id else None
    if framework is None:
        framework_id = framework_id or master.next_framework_id()
        info["id"] = {"value": framework_id}
        framework = Framework(framework_id, info, time.time())
        framework.suppressed = bool(suppressed_roles)
        master.frameworks[framework_id] = framework
        logger.info("framework %s (%s) subscribed", framework_id, info.get("name"))
    else:
        info["id"] = {"value": framework.framework_id}
        if framework.stream is not None and not framework.stream.closed:
            framework.stream.send({"type": "ERROR", "error": {"message": "Framework failed over"}})
            framework.stream.close_quietly()
        offers.remove_framework_offers(master, framework)
        framework.info = info
        framework.recovered = False
        # Mesos >= 1.9: the call's ``subscribe.suppressed_roles`` (not FrameworkInfo) says which
        # roles start suppressed; none given means offers flow again
        framework.suppressed = bool(suppressed_roles)
        logger.info("framework %s (%s) re-subscribed", framework.framework_id, info.get("name"))
    if framework.failover_timer is not None:
        framework.failover_timer.cancel()
        framework.failover_timer = None
    framework.stream = stream
    framework.unregistered_time = 0.0
    stream.on_closed = lambda s, fw=framework: _stream_closed(master, fw, s)
    stream.send(
        {
            "type": "SUBSCRIBED",
            "subscribed": {
                "framework_id": {"value": framework.framework_id},
                "heartbeat_interval_seconds": master.config.heartbeat_interval,
                "master_info": master.master_info(),
            },
        }
    )
    stream.send({"type": "HEARTBEAT"})
    for agent in master.reachable_agents():
        agent.flush_updates(framework.framework_id)
    maintenance.send_inverse_offers(master, framework)
    master.request_allocation()
    return stream


def _stream_closed(master: Master, framework: Framework, stream: EventStream) -> None:
    with master.lock:
        if framework.stream is stream:
            _disconnected(master, framework)


def _disconnected(master: Master, framework: Framework) -> None:
    """Stream gone: offers go back, the failover timer starts (0 s means tear down now)."""
    logger.info("framework %s disconnected", framework.framework_id)
    framework.stream = None
    framework.unregistered_time = time.time()
    offers.remove_framework_offers(master, framework)
    timeout = min(float(framework.info.get("failover_timeout") or 0.0), MAX_FAILOVER_TIMEOUT)

    def expire(fw: Framework = framework) -> None:
        with master.lock:
            if not fw.connected and master.frameworks.get(fw.framework_id) is fw:
                logger.info("framework %s failover timeout expired", fw.framework_id)
                remove_framework(master, fw)

    framework.failover_timer = master.timers.call_later(timeout, expire)


def drop_streams(master: Master, framework_id: str | None = None) -> int:
    """Fault injection: close scheduler streams (all, or one framework's)."""
    count = 0
    for framework in list(master.frameworks.values()):
        if framework_id and framework.framework_id != framework_id:
            continue
        if framework.stream is not None and not framework.stream.closed:
            framework.stream.close()
            count += 1
    return count


def remove_framework(master: Master, framework: Framework) -> None:
    """TEARDOWN or failover expiry: executors shut down, tasks killed, framework completed."""
    fid = framework.framework_id
    if framework.failover_timer is not None:
        framework.failover_timer.cancel()
    offers.remove_framework_offers(master, framework)
    maintenance.remove_framework_inverse_offers(master, framework)
    if framework.stream is not None:
        framework.stream.close_quietly()
        framework.stream = None
    for agent in master.reachable_agents():
        agent.shutdown_framework(fid)
    for task in list(framework.tasks.values()) + list(framework.unreachable_tasks.values()):
        task.state = "TASK_KILLED"
        framework.completed_tasks.append(task)
    framework.tasks.clear()
    framework.unreachable_tasks.clear()
    framework.executors.clear()
    framework.unregistered_time = framework.unregistered_time or time.time()
    master.frameworks.pop(fid, None)
    master.completed_frameworks.append(framework)
    master.removed_framework_ids.add(fid)
    logger.info("framework %s removed", fid)
