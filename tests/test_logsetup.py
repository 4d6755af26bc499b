"""Scheduler logging: stderr by default, a rotating file by setting, JSON lines, task fields."""

from __future__ import annotations

import json
import logging

import pytest

from elasticjob_cloud import logsetup
from elasticjob_cloud.settings import Settings, SettingsError

TASK = "report_job@-@3@-@FAILOVER@-@agent-7f3a-S1@-@0b4c9e2a-5d6f-4f1e-9a8b-1c2d3e4f5a6b"


@pytest.fixture
def restore_root():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_json_lines_to_a_rotating_file_name_job_shard_and_task(tmp_path, restore_root):
    path = tmp_path / "logs" / "scheduler.log"
    settings = Settings(log_file=str(path), log_format="json", log_max_bytes=2000, log_backup_count=2)
    logsetup.configure(settings, "INFO")
    log = logging.getLogger("elasticjob_cloud.mesos.statuses")
    log.warning("killing %s: %s", TASK, "job deregistered")
    log.info("a line about no task")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("handling %s failed", TASK)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["message"] == f"killing {TASK}: job deregistered"
    assert (lines[0]["job"], lines[0]["shard"], lines[0]["task_id"]) == ("report_job", 3, TASK)
    assert lines[0]["level"] == "WARNING" and lines[0]["logger"] == "elasticjob_cloud.mesos.statuses"
    assert "job" not in lines[1] and "task_id" not in lines[1]
    assert lines[2]["task_id"] == TASK and "RuntimeError: boom" in lines[2]["exception"]
    for _ in range(100):  # rotation: never more than log_backup_count old files
        log.warning("filler %s", "x" * 100)
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "scheduler.log",
        "scheduler.log.1",
        "scheduler.log.2",
    ]


def test_text_lines_get_the_job_and_shard(restore_root, capsys):
    logsetup.configure(Settings(), "INFO")
    logging.getLogger("x").info("launched %s", TASK)
    err = capsys.readouterr().err
    assert err.rstrip().endswith(f"INFO x: launched {TASK} [job=report_job shard=3]")


def test_a_bad_log_format_is_refused(restore_root):
    with pytest.raises(SettingsError, match="log_format"):
        logsetup.configure(Settings(log_format="xml"))


def test_the_scheduler_command_takes_log_settings(tmp_path, restore_root):
    """``scheduler --log-format json --log-file F`` configures logging as it loads its settings."""
    from elasticjob_cloud.cli import build_parser
    from elasticjob_cloud.commands.server import _settings

    path = tmp_path / "s.log"
    args = build_parser().parse_args(["scheduler", "--log-format", "json", "--log-file", str(path)])
    settings = _settings(args)
    assert (settings.log_format, settings.log_file) == ("json", str(path))
    logging.getLogger("elasticjob_cloud.bootstrap").warning("started %s", TASK)
    assert json.loads(path.read_text())["shard"] == 3


def test_debug_keeps_the_zookeeper_client_from_printing_node_data(restore_root, capsys):
    logsetup.configure(None, "DEBUG")
    logging.getLogger("kazoo.client").debug("Received response(xid=7): (b'secret-node-data', ...)")
    logging.getLogger("elasticjob_cloud.registry").debug("a debug line of the project")
    err = capsys.readouterr().err
    assert "secret-node-data" not in err
    assert "a debug line of the project" in err
