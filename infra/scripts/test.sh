#!/usr/bin/env bash
# npm test: install what is missing, check the services, build, run every test (vitest).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash infra/scripts/ensure-deps.sh
node infra/scripts/check-services.mjs
npx turbo run build --output-logs=errors-only
exec node_modules/.bin/vitest run "$@"
