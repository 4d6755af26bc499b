#!/usr/bin/env bash
# The test command: installs what is missing (scripts/install.sh), then lint, layering and the whole
# pytest suite. The suite starts its own ZooKeeper servers; nothing needs to be running beforehand.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/install.sh
bin="$root/.venv/bin"
echo "== ruff" >&2
"$bin/ruff" check .
"$bin/ruff" format --check .
echo "== import-linter" >&2
"$bin/lint-imports"
echo "== mypy" >&2
"$bin/mypy"
echo "== pytest" >&2
"$bin/pytest" "$@"
