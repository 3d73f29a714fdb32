/**
 * `npm run dlq -- <command>`: inspect, replay and discard dead-lettered events (see commands.ts).
 * Talks to the broker at AMQP_URL; SHOP_RUN_ID selects a test run's queues.
 */
export async function main(argv = process.argv.slice(2)): Promise<number> {
  // The kit's logger reads LOG_LEVEL when it loads: keep the operator's terminal to the command's output.
  process.env.LOG_LEVEL ??= 'warn';
  const { connectBroker } = await import('@shop/kit');
  const { runDlqCommand } = await import('./commands.js');
  const connection = connectBroker('dlq-cli');
  try {
    return await runDlqCommand(argv, { connection });
  } finally {
    await connection.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    },
  );
}
