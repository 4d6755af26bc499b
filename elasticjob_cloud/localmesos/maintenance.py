"""Maintenance: INVERSE_OFFERS to frameworks using an agent scheduled for maintenance.

Only what a scheduler can observe: inverse offers with an unavailability start, RESCIND_INVERSE_OFFER
when maintenance is cancelled or the agent goes away, and ACCEPT/DECLINE_INVERSE_OFFERS calls that
answer them. There are no maintenance windows, machine states or ``/maintenance`` endpoints.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .records import Framework, InverseOffer

if TYPE_CHECKING:
    from .master import Master


def _inverse_json(master: Master, inverse: InverseOffer) -> dict[str, Any]:
    return {
        "id": {"value": inverse.offer_id},
        "url": master.agents[inverse.agent_id].url_json(),
        "framework_id": {"value": inverse.framework_id},
        "agent_id": {"value": inverse.agent_id},
        "unavailability": {"start": {"nanoseconds": inverse.start_ns}},
    }


def send_inverse_offers(master: Master, framework: Framework) -> None:
    """Ask a framework to vacate agents under maintenance where it holds resources."""
    batch = []
    for agent_id, start_ns in master.maintenance.items():
        if master.used_on(agent_id, framework).is_empty():
            continue
        if any(
            o.framework_id == framework.framework_id and o.agent_id == agent_id
            for o in master.inverse_offers.values()
        ):
            continue
        inverse = InverseOffer(master.next_offer_id(), framework.framework_id, agent_id, start_ns)
        master.inverse_offers[inverse.offer_id] = inverse
        batch.append(_inverse_json(master, inverse))
    if batch:
        framework.send({"type": "INVERSE_OFFERS", "inverse_offers": {"inverse_offers": batch}})


def start_maintenance(master: Master, agent_id: str) -> None:
    master.maintenance[agent_id] = time.time_ns()
    for framework in master.frameworks.values():
        if framework.connected:
            send_inverse_offers(master, framework)


def end_maintenance(master: Master, agent_id: str) -> None:
    master.maintenance.pop(agent_id, None)
    for inverse in [o for o in master.inverse_offers.values() if o.agent_id == agent_id]:
        rescind_inverse(master, inverse)


def rescind_inverse(master: Master, inverse: InverseOffer) -> None:
    master.inverse_offers.pop(inverse.offer_id, None)
    framework = master.frameworks.get(inverse.framework_id)
    if framework is not None:
        framework.send(
            {
                "type": "RESCIND_INVERSE_OFFER",
                "rescind_inverse_offer": {"inverse_offer_id": {"value": inverse.offer_id}},
            }
        )


def answer_inverse_offers(master: Master, framework: Framework, body: dict[str, Any]) -> None:
    for item in body.get("inverse_offer_ids", []):
        inverse = master.inverse_offers.get(item["value"])
        if inverse is not None and inverse.framework_id == framework.framework_id:
            master.inverse_offers.pop(inverse.offer_id)


def remove_framework_inverse_offers(master: Master, framework: Framework) -> None:
    for inverse in [o for o in master.inverse_offers.values() if o.framework_id == framework.framework_id]:
        master.inverse_offers.pop(inverse.offer_id)
