"""Offers the engine holds, and the rule for how long (the original's issue #396: it hoarded them).

An offer is kept only while it may be used soon: work is pending that did not fit yet, or a cron
fire is due within ``offer_hold_seconds``; and never longer than ``offer_hold_seconds``. Everything
else is declined at once. With nothing pending and no fire imminent the framework also SUPPRESSes
offers, and REVIVEs as soon as work appears.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

IDLE_REFUSE_SECONDS = 30.0  # declined while idle: the master may keep them away this long (REVIVE undoes it)
BUSY_REFUSE_SECONDS = 0.0  # declined while work is pending: offer them again at the next allocation


@dataclass
class HeldOffer:
    offer: dict[str, Any]
    received: float

    @property
    def offer_id(self) -> str:
        return str(self.offer["id"]["value"])

    @property
    def agent_id(self) -> str:
        return str(self.offer["agent_id"]["value"])


class OfferBook:
    def __init__(self, hold_seconds: float):
        self.hold_seconds = hold_seconds
        self._offers: dict[str, HeldOffer] = {}

    def __len__(self) -> int:
        return len(self._offers)

    def add(self, offers: list[dict[str, Any]], now: float) -> None:
        for offer in offers:
            held = HeldOffer(offer, now)
            self._offers[held.offer_id] = held

    def offers(self) -> list[dict[str, Any]]:
        return [held.offer for held in self._offers.values()]

    def take(self, offer_ids: list[str]) -> None:
        for offer_id in offer_ids:
            self._offers.pop(offer_id, None)

    def drop_agent(self, agent_id: str) -> None:
        for offer_id in [o for o, held in self._offers.items() if held.agent_id == agent_id]:
            del self._offers[offer_id]

    def clear(self) -> list[str]:
        ids = list(self._offers)
        self._offers.clear()
        return ids

    def expired(self, now: float) -> list[str]:
        """Offers held for ``hold_seconds`` already: taken out, to be declined."""
        ids = [o for o, held in self._offers.items() if now - held.received >= self.hold_seconds]
        self.take(ids)
        return ids

    def next_expiry(self) -> float | None:
        oldest = min((held.received for held in self._offers.values()), default=None)
        return None if oldest is None else oldest + self.hold_seconds
