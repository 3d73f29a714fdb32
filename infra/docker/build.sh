#!/usr/bin/env bash
# The image's build steps, in one place: the Dockerfile runs this script, and npm test runs it again
# in a temporary copy of the repository (infra/docker/check-build.sh), so what CI checks is what the
# images get. From the repository root: install from the lock file, build every workspace and the
# storefront, drop the devDependencies, and copy what the server processes need at run time to OUT.
set -euo pipefail
out="${1:?usage: bash infra/docker/build.sh OUT_DIR}"
cd "$(dirname "$0")/../.."
npm ci --no-audit --no-fund ${NPM_CI_FLAGS:-}
npx turbo run build --output-logs=errors-only
npm prune --omit=dev --no-audit --no-fund ${NPM_CI_FLAGS:-}
mkdir -p "$out"
# Root and workspace manifests (npm links the @shop/* workspaces through node_modules), the
# production node_modules, the built code, the supergraph and the partner manifest the gateway reads,
# the demo data, the migrate command and the health check. The storefront's static files
# (client/dist) go to their own image; the client workspace is not needed by any server process.
paths=(package.json node_modules schema/supergraph.graphql schema/operations client/src/operations infra/demo
  infra/scripts/migrate.mjs infra/scripts/processes.mjs infra/scripts/db-roles.mjs infra/docker/healthcheck.mjs)
for ws in subgraphs/* gateway schema infra; do
  for item in package.json dist node_modules; do
    [ -e "$ws/$item" ] && paths+=("$ws/$item")
  done
done
tar -cf - "${paths[@]}" | tar -xf - -C "$out"
rm -f "$out/node_modules/@shop/client"
