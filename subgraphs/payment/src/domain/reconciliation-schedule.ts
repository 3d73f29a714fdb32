import { leaderLock, logger, registry, type EntityManager, type LeaderLock } from '@shop/kit';
import { Counter } from 'prom-client';
import { reconcile } from './reconciliation.js';

export const reconciliationRuns = new Counter({
  name: 'reconciliation_runs_total',
  help: 'Scheduled reconciliation runs started by this process (only the leading payment replica runs them)',
  registers: [registry],
});

/**
 * Runs reconciliation every intervalMs over the trailing window; 0 disables it. However many payment
 * replicas run, one at a time leads (leader-lock.ts) and only the leader reconciles.
 */
export function scheduleReconciliation(
  em: EntityManager,
  intervalMs: number,
  windowMs: number,
  leader: LeaderLock = leaderLock('payment:reconciliation'),
): { stop(): Promise<void> } {
  if (intervalMs <= 0) return { stop: async () => undefined };
  let running: Promise<unknown> | undefined;
  const tick = async () => {
    if (!(await leader.acquire())) return;
    reconciliationRuns.inc();
    const to = new Date();
    await reconcile(em.fork(), new Date(to.getTime() - windowMs), to);
  };
  const timer = setInterval(() => {
    if (running) return;
    running = tick()
      .catch((err: unknown) => logger.warn({ err }, 'scheduled reconciliation failed; next run will retry'))
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await leader.release();
    },
  };
}
