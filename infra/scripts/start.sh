#!/usr/bin/env bash
# npm start: install what is missing, check the services, build, then run every process with demo data.
set -euo pipefail
cd "$(dirname "$0")/../.."
export SHOP_STARTED_AT_MS=$(date +%s%3N)
bash infra/scripts/ensure-deps.sh
node infra/scripts/check-services.mjs
npx turbo run build --output-logs=errors-only
exec node_modules/.bin/node infra/scripts/run-all.mjs
