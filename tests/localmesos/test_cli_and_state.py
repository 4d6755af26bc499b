"""The ``local-mesos`` command (as a real process, stopped by SIGINT/SIGTERM) and ``/state`` shapes."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from lmhelpers import executor_info, task_info, wait_until

from elasticjob_cloud.localmesos import LocalMesosCluster
from elasticjob_cloud.localmesos.resources import Resources, parse_attributes

RUNNER = """
import argparse, logging, sys
from elasticjob_cloud.localmesos import cli
logging.basicConfig(level=logging.INFO)
parser = argparse.ArgumentParser()
cli.add_parser(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
sys.exit(args.func(args))
"""


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", RUNNER, "local-mesos", "--port", "0", *args]


def _get(address: str, path: str):
    conn = http.client.HTTPConnection(address, timeout=5)
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, json.loads(body) if body else None


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cli_runs_until_signalled_and_cleans_up(tmp_path, sig):
    work = tmp_path / "work"
    proc = subprocess.Popen(
        _cli(
            "--agents",
            "2",
            "--work-dir",
            str(work),
            "--attributes",
            "rack:r1",
            "--allocation-interval",
            "0.2",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = proc.stdout.readline()
        assert banner.startswith("local Mesos master: http://127.0.0.1:"), banner
        address = banner.split("http://")[1].split()[0]
        status, version = _get(address, "/version")
        assert status == 200 and version["version"] == "1.11.0"
        status, state = _get(address, "/master/state")
        assert status == 200 and len(state["slaves"]) == 2
        assert state["slaves"][0]["attributes"] == {"rack": "r1"}
        assert state["flags"]["work_dir"] == str(work.resolve())
        proc.send_signal(sig)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_cli_rejects_bad_resources(tmp_path):
    result = subprocess.run(
        _cli("--work-dir", str(tmp_path), "--resources", "cpus"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "bad arguments" in result.stderr


def test_master_and_agent_state_have_mesos_shapes(cluster, drivers):
    driver, rec = drivers(cluster.master_url)
    offer = rec.take_offer()
    task = task_info("s1", offer, executor=executor_info("app@-@x"), behaviour={"hang": True})
    task["labels"] = {"labels": [{"key": "k", "value": "v"}]}
    driver.launchTasks(offer.id, [task])
    wait_until(lambda: rec.states("s1") == ["TASK_RUNNING"])
    status, state = _get(cluster.master_url, "/state")
    assert status == 200
    (framework,) = state["frameworks"]
    assert framework["id"] == rec.framework_id and framework["connected"] and framework["active"]
    assert framework["name"] == "localmesos-test" and framework["failover_timeout"] == 60.0
    (executor,) = framework["executors"]
    agent = cluster.agents[0]
    assert executor["executor_id"] == "app@-@x" and executor["slave_id"] == agent.agent_id
    assert executor["directory"].startswith(str(cluster.work_dir / "slaves" / agent.agent_id))
    assert executor["resources"]["cpus"] == 0.1
    (task_state,) = framework["tasks"]
    assert (
        task_state["id"] == "s1"
        and task_state["state"] == "TASK_RUNNING"
        and task_state["executor_id"] == "app@-@x"
    )
    assert task_state["labels"] == {"labels": [{"key": "k", "value": "v"}]}
    assert [s["state"] for s in task_state["statuses"]] == ["TASK_RUNNING"]
    (slave,) = state["slaves"]
    assert slave["pid"] == f"slave(1)@{agent.url}" and slave["hostname"] == "127.0.0.1"
    assert slave["resources"]["ports"] == "[31000-32000]" and slave["used_resources"]["cpus"] == 0.6
    assert state["leader"] == state["pid"] == f"master@{cluster.master_url}"
    assert _get(cluster.master_url, "/master/state")[1]["id"] == state["id"]

    # the agent's own /state: what sandbox lookup uses (flags.work_dir + executor directory)
    host_port = slave["pid"].split("@")[1]
    status, agent_state = _get(host_port, "/state")
    assert status == 200 and agent_state["id"] == agent.agent_id
    (fw,) = agent_state["frameworks"]
    (ex,) = fw["executors"]
    assert ex["id"] == "app@-@x" and ex["directory"] == executor["directory"]
    assert ex["directory"][len(agent_state["flags"]["work_dir"]) :].startswith("/slaves/")
    assert [t["id"] for t in ex["tasks"]] == ["s1"]


def test_resources_and_attributes_parsing():
    r = Resources.parse("cpus:4;mem:4096;disk:10240;ports:[31000-32000,33000-33001]")
    assert r.to_state() == {
        "cpus": 4.0,
        "mem": 4096.0,
        "disk": 10240.0,
        "gpus": 0.0,
        "ports": "[31000-32000, 33000-33001]",
    }
    used = Resources.parse("cpus:0.1;ports:[31000-31000]") + Resources.parse("cpus:0.2")
    assert (r - used).scalars["cpus"] == 3.7 and (r - used).ranges["ports"][0] == (31001, 32000)
    assert r.contains(used) and not used.contains(r)
    assert not Resources.parse("cpus:1").contains(Resources.parse("ports:[1-1]"))
    with pytest.raises(ValueError):
        Resources.parse("cpus")
    with pytest.raises(ValueError):
        Resources.parse("ports:[5-1]")
    assert parse_attributes("rack:r1;n:2;p:[1-3]") == [
        {"name": "rack", "type": "TEXT", "text": {"value": "r1"}},
        {"name": "n", "type": "SCALAR", "scalar": {"value": 2.0}},
        {"name": "p", "type": "RANGES", "ranges": {"range": [{"begin": 1, "end": 3}]}},
    ]


def test_stop_frees_ports_and_is_idempotent(tmp_path):
    cluster = LocalMesosCluster(agents=1, work_dir=tmp_path).start()
    address, agent_url = cluster.master_url, cluster.agents[0].url
    cluster.stop()
    cluster.stop()
    for addr in (address, agent_url):
        host, port = addr.split(":")
        with pytest.raises(OSError):
            http.client.HTTPConnection(host, int(port), timeout=1).request("GET", "/version")
    own = LocalMesosCluster(agents=0)
    own.start().stop()
    assert not Path(own.work_dir).exists()  # a temp work dir it made itself is removed


def test_an_update_sent_again_is_listed_once_in_the_masters_task_statuses(cluster, drivers):
    driver, rec = drivers(cluster.master_url)
    offer = rec.take_offer()
    driver.launchTasks(
        offer.id, [task_info("r1", offer, executor=executor_info("e"), behaviour={"hang": True})]
    )
    wait_until(lambda: rec.states("r1") == ["TASK_RUNNING"])
    master = cluster.master
    agent_id = cluster.agents[0].agent_id
    retry = {
        "task_id": {"value": "r1"},
        "agent_id": {"value": agent_id},
        "state": "TASK_RUNNING",
        "uuid": "AAAAAAAAAAAAAAAAAAAAAA==",
    }
    with master.lock:  # the agent's retry of the unacknowledged update, as its timer sends it
        master.forward_update(agent_id, rec.framework_id, dict(retry, timestamp=1.0))
        master.forward_update(agent_id, rec.framework_id, dict(retry, state="TASK_KILLING", timestamp=2.0))
    (framework,) = _get(cluster.master_url, "/state")[1]["frameworks"]
    (task_state,) = framework["tasks"]
    assert [(s["state"], s["timestamp"]) for s in task_state["statuses"]] == [
        ("TASK_RUNNING", 1.0),
        ("TASK_KILLING", 2.0),
    ]
