#!/usr/bin/env bash
# CI's stand-in for `docker build` (no Docker engine runs here): the Dockerfile's build steps
# (infra/docker/build.sh) in a temporary copy of the repository, then checks that what an image
# would get runs without the devDependencies: every entry point loads, `npm run migrate` migrates a
# fresh database as a separate step, and a subgraph and the gateway start in production mode with
# MIGRATE_ON_START=false. npm test runs it after vitest.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/shop-image.XXXXXX")
pids=()
db="shop_image_$(date +%s)_$$"
admin="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  node_modules/.bin/node -e "const pg=require('pg');const c=new pg.Client({connectionString:process.argv[1]});c.connect().then(()=>c.query('DROP DATABASE IF EXISTS \"'+process.argv[2]+'\" WITH (FORCE)')).finally(()=>c.end())" "$admin" "$db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
started=$(date +%s)
echo "image build check: the Dockerfile's steps in $work"

# What `COPY . .` sends (tracked and new files, minus .dockerignore's node_modules, dist, ...).
mkdir -p "$work/src"
git ls-files -co --exclude-standard -z | grep -zv -E '(^|/)(node_modules|dist|dist-sdk|artifacts)/' | xargs -0 tar -cf - | tar -xf - -C "$work/src"
( cd "$work/src" && NPM_CI_FLAGS="--prefer-offline --loglevel=error" bash infra/docker/build.sh "$work/app" ) >"$work/build.log" 2>&1 || {
  tail -40 "$work/build.log"
  echo "✗ the image build steps failed (log above)"
  exit 1
}
app="$work/app"
node=$(command -v node)
[ -x "$repo/node_modules/.bin/node" ] && node="$repo/node_modules/.bin/node"
fail() { echo "✗ $1"; exit 1; }

# No development tool reached the runtime tree; the storefront was built.
for dev in vitest typescript turbo eslint @swc/core vite; do
  [ ! -e "$app/node_modules/$dev" ] || fail "devDependency $dev is in the runtime image"
done
[ -f "$work/src/client/dist/index.html" ] || fail "the storefront was not built (client/dist/index.html)"

# Every entry point loads (imports resolve against the pruned node_modules).
for entry in gateway/dist/index.js subgraphs/{catalog,cart,order,inventory,payment,fulfillment}/dist/index.js infra/dist/psp-simulator/index.js subgraphs/payment/dist/reconcile.js infra/dist/dlq/cli.js; do
  ( cd "$app" && "$node" --input-type=module -e "await import('./$entry')" ) >/dev/null 2>&1 || {
    ( cd "$app" && "$node" --input-type=module -e "await import('./$entry')" ) 2>&1 | tail -5
    fail "$entry does not load from the runtime tree"
  }
done

# Migrations as a separate step, then processes that do not migrate, in production mode.
url=$(node -e "const u=new URL(process.argv[1]);u.pathname='/'+process.argv[2];console.log(u.toString())" "$admin" "$db")
( cd "$app" && DATABASE_URL="$url" LOG_LEVEL=warn "$node" infra/scripts/migrate.mjs ) >"$work/migrate.log" 2>&1 || {
  tail -20 "$work/migrate.log"
  fail "npm run migrate failed in the runtime tree"
}
free_port() { "$node" -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
secrets=(JWT_SECRET="image-check-jwt-$RANDOM$RANDOM-0123456789abcdef" INTERNAL_IDENTITY_SECRET="image-check-identity-$RANDOM$RANDOM-0123456789"
  PAYMENT_WEBHOOK_SECRET="image-check-webhook-$RANDOM$RANDOM-0123456789" METRICS_TOKEN="image-check-metrics-$RANDOM$RANDOM-0123456789"
  ADDRESS_ENCRYPTION_KEY="$("$node" -e "console.log(require('crypto').randomBytes(32).toString('base64'))")")
catalog_port=$(free_port)
gateway_port=$(free_port)
export SHOP_RUN_ID="img$$"
( cd "$app" && exec env "${secrets[@]}" NODE_ENV=production MIGRATE_ON_START=false DATABASE_URL="$url" CATALOG_PORT="$catalog_port" LOG_LEVEL=warn \
  "$node" subgraphs/catalog/dist/index.js ) >"$work/catalog.log" 2>&1 &
pids+=($!)
( cd "$app" && exec env "${secrets[@]}" NODE_ENV=production GATEWAY_PORT="$gateway_port" LOG_LEVEL=warn "$node" gateway/dist/index.js ) >"$work/gateway.log" 2>&1 &
pids+=($!)
wait_ok() {
  for _ in $(seq 1 150); do
    "$node" -e "fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" "$1" && return 0
    sleep 0.2
  done
  return 1
}
wait_ok "http://127.0.0.1:$catalog_port/readyz" || { tail -20 "$work/catalog.log"; fail "the catalog did not become ready from the runtime tree"; }
wait_ok "http://127.0.0.1:$gateway_port/healthz" || { tail -20 "$work/gateway.log"; fail "the gateway did not start from the runtime tree"; }
size=$(du -sh "$app" | cut -f1)
echo "✓ image build check passed in $(( $(date +%s) - started )) s: runtime tree $size, entry points load, migrate ran, catalog ready and gateway healthy in production mode"
