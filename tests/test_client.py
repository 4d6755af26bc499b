"""The client's HTTP rules against scripted peers (real sockets), its bodies, and its bash completion."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from elasticjob_cloud.cli import main
from elasticjob_cloud.client.bodies import BodyError, build_body
from elasticjob_cloud.client.http import Api, ApiError


class Peer:
    """A real HTTP server answering from a script: ``(status, headers, body)`` per request."""

    def __init__(self, answer):
        self.seen: list[dict] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                peer.seen.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "auth": self.headers.get("Authorization"),
                        "body": body,
                    }
                )
                status, headers, payload = answer(self.command, self.path)
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data) if status != 204 else 0))
                self.end_headers()
                if status != 204:
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def peers():
    made = []
    yield lambda answer: made.append(Peer(answer)) or made[-1]
    for peer in made:
        peer.close()


def test_a_307_is_followed_with_method_body_and_credentials(peers):
    leader = peers(lambda method, path: (204, {}, ""))
    standby = peers(lambda method, path: (307, {"Location": leader.url + path}, {"message": "standby"}))
    Api(standby.url, "ops", "secret").request("POST", "/api/job/trigger", text="foo_job")
    assert [s["method"] for s in standby.seen + leader.seen] == ["POST", "POST"]
    assert leader.seen[0]["path"] == "/api/job/trigger" and leader.seen[0]["body"] == "foo_job"
    assert leader.seen[0]["auth"] == standby.seen[0]["auth"] == "Basic b3BzOnNlY3JldA=="


def test_credentials_from_the_environment_and_from_netrc(peers, monkeypatch, tmp_path):
    peer = peers(lambda method, path: (200, {"Content-Type": "application/json"}, []))
    monkeypatch.setenv("ELASTICJOB_CLOUD_API", peer.url)
    monkeypatch.setenv("ELASTICJOB_CLOUD_USER", "env-user")
    monkeypatch.setenv("ELASTICJOB_CLOUD_PASSWORD", "env-pass")
    assert main(["job", "list"]) == 0
    assert peer.seen[-1]["auth"] == "Basic ZW52LXVzZXI6ZW52LXBhc3M="
    monkeypatch.delenv("ELASTICJOB_CLOUD_USER")
    monkeypatch.delenv("ELASTICJOB_CLOUD_PASSWORD")
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login net-user password net-pass\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert main(["job", "list"]) == 0
    assert peer.seen[-1]["auth"] == "Basic bmV0LXVzZXI6bmV0LXBhc3M="


def test_errors_carry_the_servers_message_and_fields(peers, capsys):
    body = {"message": "invalid job configuration: cron: bad", "errors": {"cron": ["bad"]}}
    peer = peers(lambda method, path: (400, {"Content-Type": "application/json"}, body))
    with pytest.raises(ApiError) as caught:
        Api(peer.url).request("POST", "/api/job/register", {"jobName": "x"})
    assert caught.value.status == 400 and caught.value.errors == {"cron": ["bad"]}
    assert main(["job", "register", "--api", peer.url, "--name", "x"]) == 1
    assert (
        capsys.readouterr().err == "elasticjob-cloud: 400 invalid job configuration: cron: bad\n  cron: bad\n"
    )
    looping = peers(lambda method, path: (307, {"Location": path}, ""))
    with pytest.raises(ApiError, match="redirects"):
        Api(looping.url).get("/api/job/jobs")
    with pytest.raises(ApiError) as unreachable:
        Api("http://127.0.0.1:9").get("/api/job/jobs")
    assert unreachable.value.status == 0


def test_bodies_from_yaml_flags_and_sets(tmp_path):
    spec = tmp_path / "job.yml"
    spec.write_text("jobName: a\nshardingTotalCount: 2\nfailover: true\n")
    body = build_body(
        str(spec),
        {"cron": "0 * * * * ?", "appName": None},
        ["shardingTotalCount=4", "misfire=false", "jobParameter=x=y"],
    )
    assert body == {
        "jobName": "a",
        "shardingTotalCount": 4,
        "failover": True,
        "cron": "0 * * * * ?",
        "misfire": False,
        "jobParameter": "x=y",
    }
    spec.write_text("- a\n- b\n")
    with pytest.raises(BodyError, match="one object"):
        build_body(str(spec), {}, None)
    with pytest.raises(BodyError, match="key=value"):
        build_body(None, {}, ["novalue"])
    with pytest.raises(BodyError, match="nothing to send"):
        build_body(None, {"jobName": None}, None)


def test_bash_completion_completes_commands_actions_and_options(tmp_path, capsys):
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "completion.bash"
    script.write_text(capsys.readouterr().out)

    def complete(*words: str) -> list[str]:
        line = " ".join(["elasticjob-cloud", *words])
        probe = (
            f"source {script}; COMP_WORDS=({line}); COMP_CWORD={len(words)}; "
            '_elasticjob_cloud; printf "%s\\n" "${COMPREPLY[@]}"'
        )
        out = subprocess.run(
            ["bash", "-c", probe], capture_output=True, text=True, timeout=30, check=True
        ).stdout
        return sorted(out.split())

    assert complete("jo") == ["job"]
    assert complete("job", "tr") == ["trigger"]
    assert "--shards" in complete("job", "register", "--sh")
    assert complete("--log-level", "DEBUG", "task", "r") == ["ready", "running"]


def test_credentials_against_a_live_api_with_authentication(zk_hosts, capsys, monkeypatch):
    from elasticjob_cloud.bootstrap import start_api
    from elasticjob_cloud.settings import Settings

    monkeypatch.delenv("ELASTICJOB_CLOUD_USER", raising=False)
    monkeypatch.setenv("NETRC", "/nonexistent")
    settings = Settings(
        zk_servers=zk_hosts,
        http_port=0,
        hostname="127.0.0.1",
        auth_enabled="true",
        auth_username="ops",
        auth_password="s3cret",
    )
    stack = start_api(settings, host="127.0.0.1", run_scheduler=False)
    try:
        url = f"http://127.0.0.1:{stack.rest.port}"
        assert main(["app", "list", "--api", url]) == 1
        assert capsys.readouterr().err.startswith("elasticjob-cloud: 401 ")
        assert main(["app", "list", "--api", url, "--user", "ops", "--password", "s3cret", "--json"]) == 0
        assert json.loads(capsys.readouterr().out) == []
    finally:
        stack.stop()


def test_bash_completion_offers_job_names_from_the_api(api, tmp_path, capsys, monkeypatch):
    import os
    import sys

    import requests

    from tests.support import FOO_APP, FOO_JOB

    assert requests.post(f"{api.base_url}/api/app", json=FOO_APP, timeout=10).status_code == 204
    for name in ("nightly_report", "nightly_sync"):
        body = {**FOO_JOB, "jobName": name}
        assert requests.post(f"{api.base_url}/api/job/register", json=body, timeout=10).status_code == 204
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "completion.bash"
    script.write_text(capsys.readouterr().out)
    env = {**os.environ, "ELASTICJOB_CLOUD_API": api.base_url}
    env["PATH"] = f"{os.path.dirname(sys.executable)}:{env['PATH']}"  # the venv's elasticjob-cloud
    probe = (
        f"source {script}; COMP_WORDS=(elasticjob-cloud job trigger night); COMP_CWORD=3; "
        '_elasticjob_cloud; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(
        ["bash", "-c", probe], capture_output=True, text=True, timeout=60, env=env, check=True
    )
    assert sorted(done.stdout.split()) == ["nightly_report", "nightly_sync"]


# Run policies and triggers with parameters (issue #17), against a live REST server.

POLICIES = {
    "priority": 7,
    "startingDeadlineSeconds": 120,
    "timeLimitSeconds": 600,
    "concurrencyPolicy": "REPLACE",
    "retry": {"maxRetries": 3, "initialBackoffSeconds": 5.0, "maxBackoffSeconds": 60.0},
    "dependsOn": ["foo_job"],
    "dependencyPolicy": "ALL_DONE",
}
POLICY_ARGS = [
    "--priority",
    "7",
    "--starting-deadline",
    "120",
    "--time-limit",
    "600",
    "--concurrency",
    "REPLACE",
    "--retry",
    "3:5:60",
    "--depends-on",
    "foo_job",
    "--dependency-policy",
    "ALL_DONE",
]


def job_args(name: str, execution: str) -> list[str]:
    return [
        *("--name", name, "--app", "foo_app", "--type", "SIMPLE", "--job-class", "m.Nightly", "--cpu", "0.1"),
        *("--memory", "32", "--execution-type", execution, "--cron", "0 0 3 * * ?", "--shards", "2"),
    ]


@pytest.fixture
def seeded_api(api):
    import requests

    from tests.support import FOO_APP, FOO_JOB

    assert requests.post(f"{api.base_url}/api/app", json=FOO_APP, timeout=10).status_code == 204
    assert requests.post(f"{api.base_url}/api/job/register", json=FOO_JOB, timeout=10).status_code == 204
    return api


def stored_job(api, name):
    import requests

    response = requests.get(f"{api.base_url}/api/job/jobs/{name}", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_policy_flags_register_update_clear_and_show(seeded_api, capsys):
    url = seeded_api.base_url
    assert main(["job", "register", "--api", url, *job_args("nightly", "TRANSIENT"), *POLICY_ARGS]) == 0, (
        capsys.readouterr().err
    )
    assert capsys.readouterr().out == "job nightly registered\n"
    assert {key: stored_job(seeded_api, "nightly").get(key) for key in POLICIES} == POLICIES

    assert main(["job", "show", "nightly", "--api", url, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert {key: shown.get(key) for key in POLICIES} == POLICIES
    assert main(["job", "show", "nightly", "--api", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.split() == ["concurrencyPolicy", "REPLACE"] for line in lines), lines
    assert any(line.startswith("retry ") and '"maxRetries": 3' in line for line in lines), lines

    update = ["job", "update", "nightly", "--api", url, "--priority", "-3", "--retry", "2"]
    assert main([*update, "--clear", "depends-on", "--clear", "time-limit"]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out == "job nightly updated\n"
    job = stored_job(seeded_api, "nightly")
    assert "dependsOn" not in job and "timeLimitSeconds" not in job  # back to the defaults
    assert job["priority"] == -3
    assert job["retry"] == {"maxRetries": 2, "initialBackoffSeconds": 10.0, "maxBackoffSeconds": 360.0}
    untouched = ("startingDeadlineSeconds", "concurrencyPolicy", "dependencyPolicy")
    assert {key: job[key] for key in untouched} == {key: POLICIES[key] for key in untouched}

    # the server's refusals, with the field they name (exit 1, nothing stored)
    daemon = [*job_args("resident", "DAEMON"), "--concurrency", "ALLOW"]
    assert main(["job", "register", "--api", url, *daemon]) == 1
    err = capsys.readouterr().err
    assert err.startswith("elasticjob-cloud: 400 ") and "concurrencyPolicy" in err, err
    assert main(["job", "update", "nightly", "--api", url, "--depends-on", "foo_job,nobody"]) == 1
    err = capsys.readouterr().err
    assert "dependsOn" in err and "nobody" in err, err
    assert stored_job(seeded_api, "nightly") == job


@pytest.fixture(scope="module")
def listening_peer():
    """One peer for the many refusals below (a peer's shutdown takes half a second)."""
    peer = Peer(lambda method, path: (204, {}, ""))
    yield peer
    peer.close()


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["job", "register", "--name", "j", "--retry", "x"], "--retry"),
        (["job", "register", "--name", "j", "--retry", "3:a"], "--retry"),
        (["job", "update", "j", "--retry", "3:10:360:9"], "--retry"),
        (["job", "update", "j", "--time-limit", "1.5"], "--time-limit"),
        (["job", "update", "j", "--starting-deadline", "0"], "--starting-deadline"),
        (["job", "update", "j", "--priority", "high"], "--priority"),
        (["job", "update", "j", "--depends-on", "a,,b"], "--depends-on"),
        (["job", "update", "j", "--concurrency", "SOMETIMES"], "--concurrency"),
        (["job", "update", "j", "--clear", "cron"], "--clear"),
        (["job", "update", "j", "--clear", "retry", "--retry", "2"], "--clear retry contradicts --retry"),
    ],
)
def test_a_malformed_policy_flag_is_refused_before_any_request(listening_peer, capsys, argv, flag):
    peer = listening_peer
    peer.seen.clear()
    try:
        status = main([*argv, "--api", peer.url])
    except SystemExit as exc:  # argparse's usage error
        status = exc.code
    assert status == 2 and peer.seen == []
    assert flag in capsys.readouterr().err


def test_flags_map_onto_the_body_and_a_trigger_answer_without_run_is_an_error(listening_peer, capsys):
    peer = listening_peer
    peer.seen.clear()
    assert main(["job", "update", "j", "--api", peer.url, "--retry", "4:0.5", "--depends-on", " a , b"]) == 0
    assert main(["job", "update", "j", "--api", peer.url, "--clear", "priority", "--priority=-1"]) == 2
    assert main(["job", "update", "j", "--api", peer.url, "--clear", "retry", "--clear", "priority"]) == 0
    # a scheduler without run parameters answers the {"jobName", ...} form 204: not silently taken
    assert main(["job", "trigger", "j", "--api", peer.url, "--idempotency-key", "k"]) == 1
    assert "does not take run parameters" in capsys.readouterr().err
    assert [json.loads(s["body"]) for s in peer.seen] == [
        {"jobName": "j", "retry": {"maxRetries": 4, "initialBackoffSeconds": 0.5}, "dependsOn": ["a", "b"]},
        {"jobName": "j", "retry": None, "priority": None},
        {"jobName": "j", "idempotencyKey": "k"},
    ]


def test_trigger_with_parameters_names_its_run_and_a_key_answers_it_again(seeded_api, capsys):
    url = seeded_api.base_url
    assert main(["job", "trigger", "foo_job", "--api", url]) == 0  # the original's form, as before
    assert capsys.readouterr().out == "job foo_job triggered\n"
    assert seeded_api.registry.ready.counts() == {"foo_job": 1}

    keyed = ["job", "trigger", "foo_job", "--api", url, "--idempotency-key", "nightly-2026-12-06"]
    assert main([*keyed, "--parameter", "p", "--sharding-parameters", "0=a,1=b", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["jobName"] == "foo_job" and first["queued"] is True
    [run] = seeded_api.registry.triggered.entries()
    assert (run.run_id, run.job_parameter, run.sharding_item_parameters) == (first["runId"], "p", "0=a,1=b")

    assert main([*keyed, "--parameter", "p"]) == 0
    out = capsys.readouterr().out
    assert out.split()[:2] == ["run", first["runId"]] and "not queued again" in out, out
    assert main(["job", "trigger", "foo_job", "--api", url, "--parameter", "q"]) == 0
    out = capsys.readouterr().out
    assert out.split()[1] != first["runId"] and out.rstrip().endswith("queued for job foo_job"), out
    assert len(seeded_api.registry.triggered.entries()) == 2

    assert main(["job", "trigger", "foo_job", "--api", url, "--sharding-parameters", "7=x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("elasticjob-cloud: 400 ") and "shardingItemParameters" in err, err
    assert main(["job", "trigger", "nobody", "--api", url, "--parameter", "x"]) == 1
    assert capsys.readouterr().err.startswith("elasticjob-cloud: 404 ")
    assert len(seeded_api.registry.triggered.entries()) == 2


def test_bash_completion_offers_the_choices_of_policy_flags(tmp_path, capsys):
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "completion.bash"
    script.write_text(capsys.readouterr().out)

    def complete(*words: str) -> list[str]:
        probe = (
            f"source {script}; COMP_WORDS=(elasticjob-cloud {' '.join(words)}); COMP_CWORD={len(words)}; "
            '_elasticjob_cloud; printf "%s\\n" "${COMPREPLY[@]}"'
        )
        done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30, check=True)
        return sorted(done.stdout.split())

    assert complete("job", "update", "j", "--concurrency", "") == ["ALLOW", "FORBID", "REPLACE"]
    assert complete("job", "update", "j", "--clear", "de") == ["dependency-policy", "depends-on"]
    assert complete("job", "register", "--re") == ["--retry"]
    assert "--idempotency-key" in complete("job", "trigger", "--")
    assert "--clear" not in complete("job", "register", "--")
