"""Entry point of ``elasticjob-cloud-executor`` (filled in by the executor work)."""


def main() -> int:
    raise SystemExit("elasticjob-cloud-executor: not built yet")
