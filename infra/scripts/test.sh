#!/usr/bin/env bash
# npm test: install what is missing (dependencies, PostgreSQL and RabbitMQ, Debian's chromium),
# build, run every test (vitest), then the image build check (the Dockerfile's steps, as a script).
# Arguments go to vitest and skip the image build check: npm test -- subgraphs/order
set -euo pipefail
cd "$(dirname "$0")/../.."
bash infra/scripts/ensure-deps.sh
bash infra/scripts/ensure-services.sh
bash infra/scripts/ensure-browser.sh
npx turbo run build --output-logs=errors-only
node_modules/.bin/vitest run "$@"
if [ "$#" -eq 0 ]; then
  bash infra/docker/check-build.sh
fi
