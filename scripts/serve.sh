#!/usr/bin/env bash
# Installs what the service needs and runs it (embedded PostgreSQL in ./var unless DATABASE_URL is set).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/gateway-scheduler serve "$@"
