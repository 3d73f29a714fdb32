import { checkSecrets, envInt, envString, listenHost, logger, secret, stopOnSignals } from '@shop/kit';
import { createSimulator } from './server.js';

/** Runs the payment provider simulator as its own process (PSP_PORT, default 4010). */
export async function main(): Promise<void> {
  checkSecrets(['PAYMENT_WEBHOOK_SECRET']);
  const port = envInt('PSP_PORT', 4010);
  const simulator = await createSimulator({
    port,
    host: envString('PSP_HOST', listenHost()),
    publicUrl: envString('PSP_PUBLIC_URL', envString('PSP_URL', `http://127.0.0.1:${port}`)),
    secret: secret('PAYMENT_WEBHOOK_SECRET'),
    retryBaseMs: envInt('PSP_RETRY_BASE_MS', 500),
    retryMaxMs: envInt('PSP_RETRY_MAX_MS', 30_000),
    maxAttempts: envInt('PSP_MAX_ATTEMPTS', 20),
    ...(process.env.PSP_STATE_FILE ? { stateFile: process.env.PSP_STATE_FILE } : {}),
  });
  logger.info({ url: simulator.url }, `payment provider simulator listening on ${simulator.url}`);
  stopOnSignals(simulator.stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    logger.fatal({ err: error }, 'payment provider simulator failed to start');
    process.exit(1);
  });
}
