#!/usr/bin/env bash
# The main job on one machine: installs what is missing, then runs `elasticjob-cloud standalone`
# (a private ZooKeeper and the REST API on port 8899). Arguments are passed on, e.g.
#   scripts/standalone.sh --http-port 9000 --agents 3 --work-dir /tmp/ejc
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install.sh"
cd "$root"
exec "$root/.venv/bin/elasticjob-cloud" standalone "$@"
