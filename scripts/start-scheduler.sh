#!/usr/bin/env bash
# Production start: one scheduler instance reading conf/elastic-job-cloud-scheduler.properties from
# the repository root (every key overridable by an environment variable of the same name, or a flag).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
exec "$root/.venv/bin/elasticjob-cloud" scheduler "$@"
