"""The agent's ``/files/read`` and ``/files/browse`` against a real local agent and a real command task,
and the scheduler's reader of a task's output (``mesos.task_output``) against them."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import requests
from lmhelpers import task_info, wait_until

from elasticjob_cloud.core.taskdata import task_dir_name
from elasticjob_cloud.exceptions import AgentTimeout, AgentUnavailable, NotFound
from elasticjob_cloud.localmesos.files import MAX_READ
from elasticjob_cloud.mesos.task_output import agent_get, read_tail


def _finished_command_task(cluster, drivers) -> tuple[str, str, Path]:
    """Run ``echo`` to stdout and stderr; answer the agent URL, the framework ID and the sandbox."""
    driver, rec = drivers(cluster.master_url)
    offer = rec.take_offer()
    command = {"value": "echo known-line-42; echo complaint >&2"}
    driver.launchTasks(offer.id, [task_info("echo", offer, command=command, cpus=0.1, mem=16)])
    wait_until(lambda: rec.states("echo")[-1:] == ["TASK_FINISHED"])
    agent = cluster.agents[0]
    state = requests.get(f"http://{agent.url}/state", timeout=5).json()
    (framework,) = state["frameworks"]
    (executor,) = [e for e in framework["completed_executors"] if e["id"] == "echo"]
    return f"http://{agent.url}", rec.framework_id, Path(executor["directory"])


def _read(agent: str, path: str, **params: object) -> requests.Response:
    return requests.get(f"{agent}/files/read", params={"path": path, **params}, timeout=5)


def test_read_serves_a_sandbox_file_as_mesos_does(cluster, drivers):
    agent, framework_id, sandbox = _finished_command_task(cluster, drivers)
    stdout = f"{sandbox}/stdout"
    size = len("known-line-42\n")

    answer = _read(agent, stdout, offset=0)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    assert answer.json() == {"data": "known-line-42\n", "offset": 0}
    assert _read(agent, stdout, offset=-1).json() == {"data": "", "offset": size}
    assert _read(agent, stdout).json() == {"data": "", "offset": size}  # no offset: the size, as Mesos
    assert _read(agent, stdout, offset=6, length=4).json() == {"data": "line", "offset": 6}
    assert _read(agent, stdout, offset=6, length=-1).json() == {"data": "line-42\n", "offset": 6}
    assert _read(agent, stdout, offset=size + 10).json() == {"data": "", "offset": size + 10}
    assert _read(agent, stdout, offset=0, length=0).json() == {"data": "", "offset": 0}
    assert _read(agent, f"{sandbox}/stderr", offset=0).json()["data"] == "complaint\n"

    # The same file under the two other names a Mesos agent attaches the sandbox as.
    latest = f"/frameworks/{framework_id}/executors/echo/runs/latest/stdout"
    assert _read(agent, latest, offset=0).json()["data"] == "known-line-42\n"
    work_latest = f"{sandbox.parent}/latest/stdout"
    assert _read(agent, work_latest, offset=0).json()["data"] == "known-line-42\n"

    # Every read is capped at 16 pages.
    (sandbox / "big").write_bytes(b"x" * (MAX_READ * 2))
    big = _read(agent, f"{sandbox}/big", offset=10).json()
    assert big["offset"] == 10 and len(big["data"]) == MAX_READ == 16 * os.sysconf("SC_PAGE_SIZE")

    # Bad parameters: 400 with Mesos's messages.
    for params, message in (
        ({}, "Expecting 'path=value' in query."),
        ({"path": ""}, "Expecting 'path=value' in query."),
        ({"path": stdout, "offset": "abc"}, "Failed to parse offset"),
        ({"path": stdout, "offset": "-2"}, "Negative offset provided: -2."),
        ({"path": stdout, "length": "x"}, "Failed to parse length"),
        ({"path": stdout, "length": "-5"}, "Negative length provided: -5."),
        ({"path": str(sandbox)}, "Cannot read a directory."),
    ):
        answer = requests.get(f"{agent}/files/read", params=params, timeout=5)
        assert answer.status_code == 400 and message in answer.text, (params, answer.text)


def test_nothing_outside_a_served_sandbox_is_readable(cluster, drivers, tmp_path):
    agent, framework_id, sandbox = _finished_command_task(cluster, drivers)
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve me\n")
    sibling = Path(f"{sandbox}x")  # a string-prefix check would take it for the sandbox
    sibling.mkdir()
    (sibling / "stdout").write_text("neighbour\n")
    (sandbox / "out").symlink_to(secret)
    (sandbox / "next-door").symlink_to(sibling / "stdout")
    (sandbox / "inside").symlink_to(sandbox / "stdout")
    climb = "/".join([".."] * len(sandbox.parts))

    # Not under any attached sandbox: 404, empty body.
    for path in (str(secret), "/etc/passwd", f"{cluster.work_dir}/slaves", f"{sandbox}x/stdout", "stdout"):
        answer = _read(agent, path, offset=0)
        assert answer.status_code == 404 and answer.text == "", path
        assert requests.get(f"{agent}/files/browse", params={"path": path}, timeout=5).status_code == 404
    assert _read(agent, f"/frameworks/{framework_id}/executors/nope/runs/latest/stdout").status_code == 404
    assert _read(agent, f"{sandbox}/no-such-file", offset=0).status_code == 404

    # Under a sandbox, but leading out of it (.., symlinks): 400 "inaccessible", nothing read.
    for path in (
        f"{sandbox}/{climb}{secret}",
        f"/frameworks/{framework_id}/executors/echo/runs/latest/{climb}/etc/passwd",
        f"{sandbox}/out",
        f"{sandbox}/next-door",
    ):
        answer = _read(agent, path, offset=0)
        assert answer.status_code == 400 and "is inaccessible" in answer.text, (path, answer.text)
        assert "do not serve" not in answer.text and "neighbour" not in answer.text
    # A symlink that stays inside is followed.
    assert _read(agent, f"{sandbox}/inside", offset=0).json()["data"] == "known-line-42\n"


def test_browse_lists_a_sandbox(cluster, drivers):
    agent, framework_id, sandbox = _finished_command_task(cluster, drivers)
    answer = requests.get(f"{agent}/files/browse", params={"path": str(sandbox)}, timeout=5)
    assert answer.status_code == 200
    listing = answer.json()
    assert [entry["path"] for entry in listing] == sorted(entry["path"] for entry in listing)
    by_path = {entry["path"]: entry for entry in listing}
    stdout = by_path[f"{sandbox}/stdout"]
    assert stdout["size"] == len("known-line-42\n") and stdout["mode"].startswith("-rw")
    assert set(stdout) == {"path", "nlink", "size", "mtime", "mode", "uid", "gid"}
    assert stdout["uid"] and stdout["gid"] and stdout["mtime"] == float(int(stdout["mtime"]))
    virtual = f"/frameworks/{framework_id}/executors/echo/runs/latest"
    names = [
        e["path"] for e in requests.get(f"{agent}/files/browse", params={"path": virtual}, timeout=5).json()
    ]
    assert f"{virtual}/stdout" in names and f"{virtual}/stderr" in names
    file_listing = requests.get(f"{agent}/files/browse", params={"path": f"{sandbox}/stdout"}, timeout=5)
    assert file_listing.status_code == 200 and file_listing.json() == []
    missing = requests.get(f"{agent}/files/browse", timeout=5)
    assert missing.status_code == 400 and "Expecting 'path=value' in query." in missing.text


def test_the_scheduler_reads_a_task_tail_through_the_agent(cluster, drivers):
    """``mesos.task_output`` against the real master and agent: the tail, then the agent's failures."""
    driver, rec = drivers(cluster.master_url)
    offer = rec.take_offer()
    agent_id = offer.agent_id.value
    task_id = f"tail_job@-@0@-@READY@-@{agent_id}@-@5e1f"
    task_dir = f"tasks/{task_dir_name(task_id)}"
    command = {"value": f"mkdir -p {task_dir} && printf 'first\\nsecond-line\\n' > {task_dir}/stdout"}
    driver.launchTasks(offer.id, [task_info(task_id, offer, command=command, cpus=0.1, mem=16)])
    wait_until(lambda: rec.states(task_id)[-1:] == ["TASK_FINISHED"])
    master = f"http://{cluster.master_url}"

    tail = read_tail(master, rec.framework_id, task_id, agent_id, "stdout", 12)
    assert tail["data"] == "second-line\n" and tail["offset"] == 6 and tail["size"] == 18
    assert tail["path"].endswith(f"/{task_dir}/stdout") and tail["hostname"]
    whole = read_tail(master, rec.framework_id, task_id, agent_id, "stdout", 65536)
    assert whole["data"] == "first\nsecond-line\n" and whole["offset"] == 0
    with pytest.raises(NotFound, match="no such file"):  # nothing written to stderr
        read_tail(master, rec.framework_id, task_id, agent_id, "stderr", 100)
    with pytest.raises(NotFound, match="does not list task"):
        read_tail(master, rec.framework_id, task_id.replace("5e1f", "0000"), agent_id, "stdout", 100)
    with pytest.raises(NotFound, match="not in the Mesos master's state"):
        read_tail(master, rec.framework_id, task_id, "no-such-agent", "stdout", 100)

    cluster.agents[0].server.close_all()  # the agent's endpoint is gone, the master still lists it
    with pytest.raises(AgentUnavailable, match="unreachable") as refused:
        read_tail(master, rec.framework_id, task_id, agent_id, "stdout", 100, timeout=1.0)
    assert refused.value.status == 502


def test_an_agent_that_does_not_answer_is_a_timeout():
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        with pytest.raises(AgentTimeout, match=r"did not answer within 0\.3s") as late:
            agent_get(f"http://127.0.0.1:{port}/state", 0.3)
    assert late.value.status == 504
