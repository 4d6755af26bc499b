"""The leader's unschedulable marks (issue #12) where every scheduler instance can read them.

``/state/unschedulable`` holds ``{"jobs": {job: mark}}`` (each mark as ``GET
/api/job/tasks/unschedulable`` shows it). Its only writer is the leader's engine, through
``publish``: when its marks change, and once when it starts leading (which replaces what a leader
that died left behind). Written through the leadership's fenced tree, so a deposed leader cannot
overwrite its successor's marks. A standby's REST API reads it for ``/api/job/tasks/ready`` and
``/api/job/tasks/unschedulable``, which otherwise only the leader could answer. The original never
reads this node.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from .atomic import transact
from .config import encode_json
from .tree import Create, Op, SetData, Tree

log = logging.getLogger(__name__)

PATH = "/state/unschedulable"

Marks = dict[str, dict[str, object]]


class UnschedulableMarks:
    def __init__(self, tree: Tree):
        self.tree = tree

    def publish(self, marks: Marks) -> None:
        """Replace the stored marks with ``marks`` (raises ``RegistryUnavailable``)."""
        data = encode_json({"jobs": marks})

        def plan() -> tuple[list[Op], None]:
            found = self.tree.get(PATH)
            if found is None:
                return [Create(PATH, data)], None
            return ([SetData(PATH, data, found[1])] if found[0] != data else []), None

        transact(self.tree, plan, "publishing the unschedulable marks")

    def read(self) -> Marks:
        """The marks the leader published last; none when there are none or they cannot be read."""
        found = self.tree.get(PATH)
        if found is None:
            return {}
        try:
            jobs: Any = json.loads(found[0]).get("jobs")
        except (ValueError, AttributeError):
            log.warning("unreadable unschedulable marks at %s: ignored", PATH)
            return {}
        if not isinstance(jobs, dict):
            return {}
        return {str(name): mark for name, mark in jobs.items() if isinstance(mark, dict)}
