#!/usr/bin/env bash
# npm start: install what is missing, start PostgreSQL and RabbitMQ when they are the local ones and
# down, build, then run the processes with demo data. Flags: npm start -- --help
set -euo pipefail
cd "$(dirname "$0")/../.."
export SHOP_STARTED_AT_MS=$(date +%s%3N)
bash infra/scripts/ensure-deps.sh
bash infra/scripts/ensure-services.sh
npx turbo run build --output-logs=errors-only
exec node_modules/.bin/node infra/scripts/run-all.mjs "$@"
