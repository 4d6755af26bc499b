"""Shared test helpers: deadline polling and request bodies (the original's documented examples)."""

import time


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.02, message: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; fail with ``message`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


FOO_APP = {
    "appName": "foo_app",
    "appURL": "http://app_host:8080/foo-job.tar.gz",
    "cpuCount": 0.1,
    "memoryMB": 64.0,
    "bootstrapScript": "bin/start.sh",
    "appCacheEnable": True,
    "eventTraceSamplingCount": 0,
}

FOO_JOB = {
    "jobName": "foo_job",
    "appName": "foo_app",
    "jobClass": "yourJobClass",
    "jobType": "SIMPLE",
    "jobExecutionType": "TRANSIENT",
    "cron": "0/5 * * * * ?",
    "shardingTotalCount": 5,
    "cpuCount": 0.1,
    "memoryMB": 64.0,
    "failover": True,
    "misfire": True,
}


def dependent_job(name, *upstreams, **more):
    """A 1-shard job of ``FOO_APP`` depending on ``upstreams``, or with a nightly cron of its own
    when none are given; ``more`` overrides or adds fields."""
    body = {
        "jobName": name,
        "appName": FOO_APP["appName"],
        "jobClass": "x.Job",
        "jobType": "SIMPLE",
        "jobExecutionType": "TRANSIENT",
        "shardingTotalCount": 1,
        "cpuCount": 0.1,
        "memoryMB": 64,
    }
    body.update({"dependsOn": list(upstreams)} if upstreams else {"cron": "0 0 3 * * ?"})
    return {**body, **more}


# The original's stored forms (its scheduler test fixtures), byte for byte.
JAVA_APP_JSON = (
    '{"appName":"test_app","appURL":"http://localhost/app.jar","bootstrapScript":"bin/start.sh",'
    '"cpuCount":1.0,"memoryMB":128.0,"appCacheEnable":true,"eventTraceSamplingCount":0}'
)
JAVA_JOB_JSON = (
    '{"jobName":"test_job","jobClass":"com.dangdang.ddframe.job.cloud.scheduler.fixture.TestSimpleJob",'
    '"jobType":"SIMPLE","cron":"0/30 * * * * ?","shardingTotalCount":10,"shardingItemParameters":"",'
    '"jobParameter":"","failover":true,"misfire":true,"description":"","jobProperties":'
    '{"job_exception_handler":"com.dangdang.ddframe.job.executor.handler.impl.DefaultJobExceptionHandler",'
    '"executor_service_handler":"com.dangdang.ddframe.job.executor.handler.impl.DefaultExecutorServiceHandler"},'
    '"appName":"test_app","cpuCount":1.0,"memoryMB":128.0,"jobExecutionType":"TRANSIENT"}'
)


# 3.x's own REST-test body (CloudJobRestfulApiTest), as JSON: a CloudJobConfigurationPOJO
POJO3_BODY = {
    "appName": "test_app",
    "cpuCount": 1.0,
    "cron": "0/30 * * * * ?",
    "description": "",
    "disabled": False,
    "failover": True,
    "jobExecutionType": "TRANSIENT",
    "jobName": "test_job",
    "jobParameter": "",
    "maxTimeDiffSeconds": 0,
    "memoryMB": 128.0,
    "misfire": True,
    "monitorExecution": False,
    "overwrite": False,
    "reconcileIntervalMinutes": 0,
    "shardingItemParameters": "",
    "shardingTotalCount": 10,
}


def queue_runs(registry, job_name: str, runs: int = 1) -> int:
    """A test's starting state: ``runs`` more runs of ``job_name`` in ``/state/ready`` (the counter the
    producer's fires leave), whether or not the job exists. Returns the new count."""
    from elasticjob_cloud.core import paths
    from elasticjob_cloud.registry.tree import Create, SetData

    path = paths.ready(job_name)
    found = registry.tree.get(path)
    count = runs + (int(found[0]) if found else 0)
    op = Create(path, str(count).encode()) if found is None else SetData(path, str(count).encode(), found[1])
    registry.tree.commit([op])
    return count


def clear_ready(registry, job_name: str) -> None:
    """Every queued run of ``job_name`` gone (as a deregistration or another writer leaves it)."""
    from elasticjob_cloud.core import paths
    from elasticjob_cloud.registry.tree import Delete

    if registry.tree.exists(paths.ready(job_name)):
        registry.tree.commit([Delete(paths.ready(job_name))])


def record_running(registry, entry) -> None:
    """``entry`` recorded under ``/state/running`` as the scheduler's ledger records an adopted task
    (over a stale record of the shard, creating the job node when missing)."""
    from elasticjob_cloud.core import paths

    writes = registry.ledger.writes()
    writes.record_task(entry, create_job_node=not registry.tree.exists(paths.running_job(entry.job_name)))
    writes.flush()
    assert len(writes) == 0
