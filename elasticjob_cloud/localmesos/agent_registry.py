"""The master's registry of agents: in memory, or kept in a file across master restarts.

A real master's default registry (``--registry=replicated_log``) outlives the master process: a
master that fails over *recovers* every admitted agent from it and waits ``agent_reregister_timeout``
for each to re-register; until then reconciliation of their tasks answers nothing
(``master.cpp``, ``Master::_reconcileTasks`` case 2; ``ReconciliationTest.RecoveredAgent``). With
``--registry=in_memory`` a restarted master knows no agent, and their tasks are TASK_UNKNOWN.

``replicated_log`` here is a JSON file in the work dir (written atomically on every membership
change): the same observable behaviour, without a replicated log. Agents are ``admitted``,
``unreachable`` (with the time they were marked so) or ``gone`` (marked gone by an operator).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

REGISTRY_KINDS = ("in_memory", "replicated_log")
FILE_NAME = "registry.json"


class AgentRegistry:
    def __init__(self, kind: str, work_dir: Path) -> None:
        if kind not in REGISTRY_KINDS:
            raise ValueError(f"registry must be one of {', '.join(REGISTRY_KINDS)}, not {kind!r}")
        self.kind = kind
        self.path = work_dir / FILE_NAME
        # agent ID -> (state, time): "admitted" | "unreachable" | "gone"
        self.agents: dict[str, tuple[str, float]] = {}

    @property
    def persistent(self) -> bool:
        return self.kind == "replicated_log"

    def load(self) -> None:
        """What a (re)starting master recovers: nothing from an in-memory registry."""
        if not self.persistent:
            self.agents = {}
            return
        try:
            raw = json.loads(self.path.read_text())
            self.agents = {k: (str(v[0]), float(v[1])) for k, v in raw.get("agents", {}).items()}
        except FileNotFoundError:
            self.agents = {}
        except (OSError, ValueError, TypeError, IndexError) as exc:
            logger.error("registry %s unreadable (%s): starting empty", self.path, exc)
            self.agents = {}

    def set(self, agent_id: str, state: str, when: float) -> None:
        self.agents[agent_id] = (state, when)
        self._save()

    def remove(self, agent_id: str) -> None:
        if self.agents.pop(agent_id, None) is not None:
            self._save()

    def with_state(self, state: str) -> dict[str, float]:
        return {agent_id: when for agent_id, (s, when) in self.agents.items() if s == state}

    def _save(self) -> None:
        if not self.persistent:
            return
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"agents": {k: list(v) for k, v in self.agents.items()}}))
        os.replace(tmp, self.path)
