// The processes of the system, shared by `npm start` (run-all.mjs) and the system-test harness.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));

export const DEFAULT_PORTS = { gateway: 4000, catalog: 4001, cart: 4002, order: 4003, inventory: 4004, payment: 4005, fulfillment: 4006, psp: 4010, web: 5173 };
export const SUBGRAPHS = ['catalog', 'cart', 'order', 'inventory', 'payment', 'fulfillment'];

/** Environment that wires every process to the others on the given ports. */
export function wiring(ports) {
  const env = { GATEWAY_PORT: String(ports.gateway), PSP_PORT: String(ports.psp), PSP_URL: `http://127.0.0.1:${ports.psp}` };
  for (const name of SUBGRAPHS) {
    env[`${name.toUpperCase()}_PORT`] = String(ports[name]);
    env[`${name.toUpperCase()}_URL`] = `http://127.0.0.1:${ports[name]}/graphql`;
  }
  env.PAYMENT_CALLBACK_URL = `http://127.0.0.1:${ports.gateway}/internal/v1/payment/callback`;
  env.STOREFRONT_URL = `http://127.0.0.1:${ports.web}`;
  env.STOREFRONT_PORT = String(ports.web);
  env.VITE_GATEWAY_URL = `http://127.0.0.1:${ports.gateway}/graphql`;
  env.CORS_ORIGINS = `http://127.0.0.1:${ports.web},http://localhost:${ports.web}`;
  return env;
}

/** Every built process that exists: the six subgraphs, the gateway, the payment-provider simulator. */
export function processes() {
  const list = SUBGRAPHS.map((name) => ({ name, script: `subgraphs/${name}/dist/index.js` }));
  list.push({ name: 'gateway', script: 'gateway/dist/index.js' });
  list.push({ name: 'psp', script: 'infra/dist/psp-simulator/index.js' });
  return list.filter((p) => existsSync(new URL(p.script, `file://${root}`)));
}
