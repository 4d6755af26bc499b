"""The engine's catalog: what a refresh reports as changed."""

from __future__ import annotations

from elasticjob_cloud.core.models import AppConfig, ExecutionType, JobConfig, JobType
from elasticjob_cloud.mesos.catalog import Catalog
from elasticjob_cloud.registry import Registry
from elasticjob_cloud.registry.warm import WarmJobs
from tests.support import wait_until

APP = AppConfig("app", "http://h/app.tar.gz", "bin/start.sh")


def job(name: str) -> JobConfig:
    return JobConfig(
        name, "app", JobType.SIMPLE, ExecutionType.TRANSIENT, "0/5 * * * * ?", 1, 0.5, 64.0, "a.B"
    )


def test_registering_a_job_rewrites_its_app_unchanged_and_only_the_new_job_counts_as_changed():
    """A registration rewrites its app's node as it was (so an app deletion cannot miss the job):
    that is no change of the app, so the app's other jobs are not walked again."""
    registry = Registry.in_memory()
    registry.config.add_app(APP)
    for name in ("a", "b"):
        registry.config.add_job(job(name))
    catalog = Catalog(registry)
    registry.tree.watch("/config", catalog.mark)
    catalog.refresh()
    registry.config.add_job(job("c"))
    changes = catalog.refresh()
    assert changes.jobs == {"c"} and not changes.apps and not changes.removed_apps
    registry.config.replace_app(AppConfig("app", "http://h/v2.tar.gz", "bin/start.sh"))
    assert catalog.refresh().jobs == {"a", "b", "c"}  # a real change of the app: its jobs follow


def test_the_first_load_takes_the_warm_configs_and_a_later_full_load_reads_the_tree(monkeypatch):
    """A new leader's catalog starts from the standby's decoded configs (issue #13); a full reload
    after that (a reconnection) reads ZooKeeper as before."""
    registry = Registry.in_memory()
    registry.config.add_app(APP)
    for name in ("a", "b"):
        registry.config.add_job(job(name))
    warm = WarmJobs(registry.tree, registry.config).start()
    try:
        wait_until(lambda: warm.reads == 2, message="the standby's first read")
        catalog = Catalog(registry)
        catalog.warm = warm
        registry.tree.watch("/config", catalog.mark)
        read = registry.config.get_jobs_versioned

        def never(names):
            raise AssertionError(f"configs read from the tree: {names}")

        monkeypatch.setattr(registry.config, "get_jobs_versioned", never)
        assert catalog.refresh().jobs == {"a", "b"} and catalog.jobs == {"a": job("a"), "b": job("b")}
        calls = []
        monkeypatch.setattr(
            registry.config, "get_jobs_versioned", lambda names: calls.append(names) or read(names)
        )
        catalog.mark(None)
        assert catalog.refresh().full and calls == [["a", "b"]]
    finally:
        warm.stop()
