#!/usr/bin/env bash
# PostgreSQL, RabbitMQ and Redis for npm start / npm test: when they are the local defaults and not running,
# start (and on Debian as root, install) the packaged servers; then check both and say what is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
local_default() { [ -z "${1:-}" ] || [[ "$1" == *"@127.0.0.1:"* ]] || [[ "$1" == *"@localhost:"* ]]; }
if ! node infra/scripts/check-services.mjs --quiet; then
  if local_default "${DATABASE_URL:-}" && local_default "${AMQP_URL:-}" && local_default "${REDIS_URL:-}"; then
    bash infra/scripts/services.sh || true
  fi
  node infra/scripts/check-services.mjs
fi
