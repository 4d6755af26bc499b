"""With ZooKeeper down the API answers 503 quickly, and nothing is half-written."""

import time

import requests

from elasticjob_cloud.bootstrap import start_api
from elasticjob_cloud.registry.zkserver import ZooKeeperServer
from elasticjob_cloud.settings import Settings
from tests.support import FOO_APP, FOO_JOB, wait_until


def test_outage_gives_503_then_service_resumes_intact(tmp_path):
    server = ZooKeeperServer(data_dir=str(tmp_path / "zk")).start()
    settings = Settings(
        zk_servers=server.hosts,
        http_port=0,
        zk_operation_timeout_seconds=2.0,
        zk_session_timeout_seconds=30.0,
    )
    stack = start_api(settings, host="127.0.0.1", run_scheduler=False)
    url = f"http://127.0.0.1:{stack.rest.port}"
    try:
        assert requests.post(url + "/api/app", json=FOO_APP, timeout=10).status_code == 204
        assert requests.post(url + "/api/job/register", json=FOO_JOB, timeout=10).status_code == 204
        server.stop()
        for method, path, body in [
            ("GET", "/api/app/list", None),
            ("DELETE", "/api/app/foo_app", None),
            ("POST", "/api/job/register", {**FOO_JOB, "jobName": "other"}),
            ("POST", "/api/job/trigger", "foo_job"),
        ]:
            started = time.monotonic()
            kwargs = {"data": body} if isinstance(body, str) else {"json": body}
            response = requests.request(method, url + path, timeout=15, **kwargs)
            assert response.status_code == 503, (path, response.text)
            assert "ZooKeeper" in response.json()["message"]
            assert time.monotonic() - started < 5
        time.sleep(10)  # a longer outage: reconnection attempts must not have backed off for long
        server = ZooKeeperServer(port=server.port, data_dir=str(tmp_path / "zk")).start()
        wait_until(  # back within a few seconds of the server (attempts are at most 2 s apart)
            lambda: requests.get(url + "/api/app/list", timeout=10).status_code == 200,
            6,
            message="the API to recover",
        )
        assert [a["appName"] for a in requests.get(url + "/api/app/list", timeout=10).json()] == ["foo_app"]
        assert [j["jobName"] for j in requests.get(url + "/api/job/jobs", timeout=10).json()] == ["foo_job"]
        assert requests.get(url + "/api/job/tasks/ready", timeout=10).json() == []
    finally:
        stack.stop()
        server.stop()
