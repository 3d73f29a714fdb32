// CPU time of the stack's Node processes, and of the servers they use (PostgreSQL, RabbitMQ, Redis),
// between two moments, per unit of work (an order, a click): read from /proc/<pid>/stat (user +
// system), so it is the processes' own work whatever else the machine runs, unlike rates and
// latencies on a shared machine. The servers are counted whole (every PostgreSQL backend, say): on
// a machine running other work for them they count that too.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The servers the stack uses, by their processes' command names in /proc. */
const SERVERS = new Map([
  ['postgres', 'PostgreSQL'],
  ['beam.smp', 'RabbitMQ'],
  ['redis-server', 'Redis'],
]);
/** Whether a name of cpuTimes is one of the servers rather than a Node process. */
export const isServer = (name) => [...SERVERS.values()].includes(name);

/** A process's CPU time so far (ms) and its command name, from /proc/<pid>/stat; undefined when it is gone (or not Linux). */
function procTime(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system, ms) each process of the stack, each server (summed over its processes),
 * and this benchmark's own, has used so far.
 * @param {{ pids: () => Map<string, number> }} stack
 */
export function cpuTimes(stack) {
  const times = new Map();
  for (const [name, pid] of stack.pids()) {
    const time = procTime(pid);
    if (time) times.set(name, time.ms);
  }
  let pids = [];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    // not Linux: no server figures
  }
  for (const pid of pids) {
    const time = procTime(pid);
    const server = time && SERVERS.get(time.comm);
    if (server) times.set(server, (times.get(server) ?? 0) + time.ms);
  }
  const own = process.cpuUsage();
  times.set('benchmark client', (own.user + own.system) / 1000);
  return times;
}

/** The total line of cpuPerUnit's figures: the Node processes, the servers, and both. */
export function cpuTotal(perUnit) {
  const sum = (rows) => rows.reduce((n, [, v]) => n + v, 0);
  const node = sum(perUnit.filter(([name]) => !isServer(name)));
  const servers = sum(perUnit.filter(([name]) => isServer(name)));
  return `${(node + servers).toFixed(2)} (Node processes ${node.toFixed(2)}, PostgreSQL, RabbitMQ and Redis ${servers.toFixed(2)})`;
}

/** CPU ms per unit of each process between two cpuTimes readings, the busiest first; [] for no units. */
export function cpuPerUnit(before, after, units) {
  if (!(units > 0)) return [];
  return [...after]
    .map(([name, ms]) => [name, (ms - (before.get(name) ?? 0)) / units])
    .filter(([, perUnit]) => perUnit > 0)
    .sort((a, b) => b[1] - a[1]);
}
