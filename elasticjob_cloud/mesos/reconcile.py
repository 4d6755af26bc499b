"""Explicit reconciliation that does not trust an answer to come: asked again with backoff, and a
task that stays unanswered is treated as unreachable.

A Mesos master answers nothing for a task on an agent it recovered from its registry after a
failover until that agent re-registers or ``agent_reregister_timeout`` (10 minutes by default) ends
(``master.cpp``, ``Master::reconcile`` case 2; ``ReconciliationTest.RecoveredAgent``). The Mesos
reconciliation guide asks frameworks to retry with backoff until every task is answered. A task still
unanswered ``no_answer_seconds`` after it was first asked is reported so the engine can start its
unreachable grace period from that first ask: no task looks running forever because the master
stayed silent about it. Pure bookkeeping: the engine sends the calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FIRST_RETRY = 2.0
MAX_RETRY = 60.0


@dataclass
class Asked:
    agent_id: str
    first: float  # when it was first asked without an answer since
    next: float  # when to ask again
    delay: float
    overdue: bool = False  # reported as unanswered already


class Reconciliation:
    def __init__(
        self, no_answer_seconds: float, first_retry: float = FIRST_RETRY, max_retry: float = MAX_RETRY
    ) -> None:
        self.no_answer_seconds = no_answer_seconds
        self.first_retry = first_retry
        self.max_retry = max_retry
        self._asked: dict[str, Asked] = {}

    def __len__(self) -> int:
        return len(self._asked)

    def __contains__(self, task_id: str) -> bool:
        return task_id in self._asked

    def ask(self, tasks: Iterable[tuple[str, str]], now: float) -> None:
        """``tasks`` were just asked about; one already waiting keeps its first-ask time."""
        for task_id, agent_id in tasks:
            known = self._asked.get(task_id)
            if known is None:
                self._asked[task_id] = Asked(agent_id, now, now + self.first_retry, self.first_retry)
            else:
                known.agent_id = agent_id
                known.next = min(known.next, now + known.delay)

    def task_ids(self) -> list[str]:
        return list(self._asked)

    def answered(self, task_id: str) -> None:
        self._asked.pop(task_id, None)

    def forget(self, task_id: str) -> None:
        self._asked.pop(task_id, None)

    def due(self, now: float) -> list[tuple[str, str]]:
        """Tasks to ask again now (each one's delay doubles, up to ``max_retry``)."""
        again = []
        for task_id, asked in self._asked.items():
            if asked.next <= now:
                asked.delay = min(self.max_retry, asked.delay * 2)
                asked.next = now + asked.delay
                again.append((task_id, asked.agent_id))
        return again

    def overdue(self, now: float) -> list[tuple[str, float]]:
        """Tasks unanswered ``no_answer_seconds`` after their first ask, each reported once, with the
        time of that first ask (they are still asked again)."""
        late = []
        for task_id, asked in self._asked.items():
            if not asked.overdue and now - asked.first >= self.no_answer_seconds:
                asked.overdue = True
                late.append((task_id, asked.first))
        return late

    def next_deadline(self) -> float | None:
        times = [a.next for a in self._asked.values()]
        times += [a.first + self.no_answer_seconds for a in self._asked.values() if not a.overdue]
        return min(times, default=None)
