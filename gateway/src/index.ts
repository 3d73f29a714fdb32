// First: tracing (when configured) must start before the modules it instruments load.
import '@shop/kit/tracing-start';
import { envInt, listenHost, logger, stopOnSignals } from '@shop/kit';
import { createGateway } from './gateway.js';

export { createGateway, type Gateway, type GatewayOptions } from './gateway.js';
export { identityFromAuthorization, type GatewayContext } from './auth.js';

/** Starts the gateway on GATEWAY_PORT (default 4000). */
export async function start(port = envInt('GATEWAY_PORT', 4000)) {
  const gateway = await createGateway();
  const { url } = await gateway.start(port, listenHost());
  return { ...gateway, url };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.SERVICE_NAME ??= 'gateway';
  start().then(
    (gateway) => stopOnSignals(gateway.stop),
    (error: unknown) => {
      logger.fatal({ err: error }, 'gateway failed to start');
      process.exit(1);
    },
  );
}
