#!/bin/sh
# bootstrapScript of the example app. The executor runs it in the app directory with the task's
# context in the environment; it must end by exec-ing the runner, which imports the job class.
# ELASTICJOB_CLOUD_PYTHON is the executor's own interpreter (one with elasticjob_cloud installed).
cd "$(dirname "$0")/.." || exit 2
exec "${ELASTICJOB_CLOUD_PYTHON:-python3}" -m elasticjob_cloud.executor.runner
