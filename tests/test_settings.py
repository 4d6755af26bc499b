import pytest

from elasticjob_cloud.settings import Settings, SettingsError, load_settings, parse_properties


def test_properties_parsing_follows_java_rules():
    text = "# comment\n! also comment\nzk_servers = a:1,b:2\nhttp_port:9000\n\nuser=\nflag\n"
    assert parse_properties(text) == {"zk_servers": "a:1,b:2", "http_port": "9000", "user": "", "flag": ""}


def test_precedence_defaults_file_env_flags(tmp_path):
    conf = tmp_path / "s.properties"
    conf.write_text("zk_servers=file:1\nhttp_port=1000\nzk_namespace=from-file\nunknown_key=x\n")
    settings = load_settings(
        conf,
        environ={"http_port": "2000", "zk_namespace": "from-env"},
        overrides={"zk_namespace": "from-flag", "hostname": None},
    )
    assert settings.zk_servers == "file:1"
    assert settings.http_port == 2000
    assert settings.zk_namespace == "from-flag"
    assert settings.hostname == Settings().hostname


def test_the_shipped_file_has_every_key_and_loads():
    from pathlib import Path

    from elasticjob_cloud.settings import KEYS

    shipped = Path(__file__).resolve().parents[1] / "conf" / "elastic-job-cloud-scheduler.properties"
    text = shipped.read_text()
    assert all(key in text for key in KEYS)
    settings = load_settings(shipped, environ={})
    assert (settings.http_port, settings.zk_namespace, settings.job_state_queue_size) == (
        8899,
        "elastic-job-cloud",
        10000,
    )


def test_bad_values_are_named(tmp_path):
    with pytest.raises(SettingsError, match="http_port must be an integer"):
        load_settings(None, environ={"http_port": "eighty"})
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "missing.properties", environ={})
