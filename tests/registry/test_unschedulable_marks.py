"""The leader's published unschedulable marks (``registry.unschedulable``), on the in-memory twin
and on a real ZooKeeper: replaced whole, read back as written, and junk read as none."""

from elasticjob_cloud.registry.tree import Create, SetData
from elasticjob_cloud.registry.unschedulable import PATH

MARK = {"jobName": "huge", "reason": "no agent can hold one shard", "shards": 1, "cpuCount": 2.0}


def test_marks_are_replaced_whole_and_read_back(registry):
    marks = registry.unschedulable
    assert marks.read() == {}
    marks.publish({"huge": MARK, "wide": {**MARK, "jobName": "wide"}})
    assert set(marks.read()) == {"huge", "wide"} and marks.read()["huge"] == MARK
    marks.publish({"huge": MARK})
    assert marks.read() == {"huge": MARK}
    version = registry.tree.get(PATH)[1]
    marks.publish({"huge": MARK})  # unchanged: not written again
    assert registry.tree.get(PATH)[1] == version
    marks.publish({})
    assert marks.read() == {}


def test_unreadable_marks_read_as_none(registry):
    registry.tree.commit([Create(PATH, b"not json")])
    assert registry.unschedulable.read() == {}
    version = registry.tree.get(PATH)[1]
    registry.tree.commit([SetData(PATH, b'{"jobs": ["x"]}', version)])
    assert registry.unschedulable.read() == {}
    registry.unschedulable.publish({"huge": MARK})  # a leader replaces whatever is there
    assert registry.unschedulable.read() == {"huge": MARK}
