# syntax=docker/dockerfile:1.7
# One multi-stage build for every image of the system; each process is a target:
#   docker build --target order -t shop/order .      (compose.yaml builds them all)
# Targets: gateway, catalog, cart, order, inventory, payment, fulfillment, psp-simulator, migrate,
# storefront. The build steps are infra/docker/build.sh, which npm test also runs (check-build.sh).
ARG NODE_IMAGE=node:24.9.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY . .
# The storefront talks to the gateway at this address (baked into its static files).
ARG VITE_GATEWAY_URL=http://localhost:4000/graphql
ENV VITE_GATEWAY_URL=${VITE_GATEWAY_URL}
RUN --mount=type=cache,target=/root/.npm bash infra/docker/build.sh /app

# What every server process shares: production dependencies and the built code, owned by root,
# run as the unprivileged `node` user, listening on all interfaces, never migrating at start.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production LISTEN_HOST=0.0.0.0 MIGRATE_ON_START=false
WORKDIR /app
COPY --from=build /app /app
USER node

# npm run migrate, with a role that may change the schema (a Kubernetes Job, a compose one-off).
FROM runtime AS migrate
CMD ["node", "infra/scripts/migrate.mjs"]

# the gateway: the supergraph over HTTP and graphql-ws
FROM runtime AS gateway
ENV GATEWAY_PORT=4000
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "infra/docker/healthcheck.mjs", "GATEWAY_PORT", "4000"]
CMD ["node", "gateway/dist/index.js"]

# catalog subgraph
FROM runtime AS catalog
ENV CATALOG_PORT=4001
EXPOSE 4001
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "infra/docker/healthcheck.mjs", "CATALOG_PORT", "4001"]
CMD ["node", "subgraphs/catalog/dist/index.js"]

# cart subgraph
FROM runtime AS cart
ENV CART_PORT=4002
EXPOSE 4002
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "infra/docker/healthcheck.mjs", "CART_PORT", "4002"]
CMD ["node", "subgraphs/cart/dist/index.js"]

# order subgraph
FROM runtime AS order
ENV ORDER_PORT=4003
EXPOSE 4003
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "infra/docker/healthcheck.mjs", "ORDER_PORT", "4003"]
CMD ["node", "subgraphs/order/dist/index.js"]

# inventory subgraph
FROM runtime AS inventory
ENV INVENTORY_PORT=4004
EXPOSE 4004
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "infra/docker/healthcheck.mjs", "INVENTORY_PORT", "4004"]
CMD ["node", "subgraphs/inventory/dist/index.js"]

# payment subgraph
FROM runtime AS payment
ENV PAYMENT_PORT=4005
EXPOSE 4005
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "infra/docker/healthcheck.mjs", "PAYMENT_PORT", "4005"]
CMD ["node", "subgraphs/payment/dist/index.js"]

# fulfillment subgraph
FROM runtime AS fulfillment
ENV FULFILLMENT_PORT=4006
EXPOSE 4006
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "infra/docker/healthcheck.mjs", "FULFILLMENT_PORT", "4006"]
CMD ["node", "subgraphs/fulfillment/dist/index.js"]

# the payment-provider simulator (demo and staging only)
FROM runtime AS psp-simulator
ENV PSP_PORT=4010
EXPOSE 4010
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "infra/docker/healthcheck.mjs", "PSP_PORT", "4010"]
CMD ["node", "infra/dist/psp-simulator/index.js"]

# The storefront's static files, served by nginx as a non-root user on 8080.
FROM nginxinc/nginx-unprivileged:1.27-alpine AS storefront
COPY infra/docker/storefront.conf /etc/nginx/conf.d/default.conf
COPY --from=build /src/client/dist /usr/share/nginx/html
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]
