// CPU time of the stack's Node processes between two moments, per unit of work (an order, a click):
// read from /proc/<pid>/stat (user + system), so it is the process's own work whatever else the
// machine runs, unlike rates and latencies on a shared machine. PostgreSQL, Redis and RabbitMQ are
// not counted.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU time (user + system, ms) each process of the stack, and this benchmark's own, has used so far.
 * @param {{ pids: () => Map<string, number> }} stack
 */
export function cpuTimes(stack) {
  const times = new Map();
  for (const [name, pid] of stack.pids()) {
    try {
      // /proc/<pid>/stat: the fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      times.set(name, ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS);
    } catch {
      // not Linux, or the process is gone: no figure for it
    }
  }
  const own = process.cpuUsage();
  times.set('benchmark client', (own.user + own.system) / 1000);
  return times;
}

/** CPU ms per unit of each process between two cpuTimes readings, the busiest first; [] for no units. */
export function cpuPerUnit(before, after, units) {
  if (!(units > 0)) return [];
  return [...after]
    .map(([name, ms]) => [name, (ms - (before.get(name) ?? 0)) / units])
    .filter(([, perUnit]) => perUnit > 0)
    .sort((a, b) => b[1] - a[1]);
}
