#!/usr/bin/env bash
# Installs what the tests need, checks the layer rule, runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/lint-imports
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
