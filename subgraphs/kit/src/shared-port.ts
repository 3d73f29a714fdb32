import net from 'node:net';
import type { Server } from 'node:http';
import { Counter } from 'prom-client';
import { envInt } from './config.js';
import { logger } from './logger.js';
import { registry } from './metrics.js';

const accepted = new Counter({
  name: 'http_shared_port_connections_total',
  help: 'Connections this process accepted on SHARED_PORT, the port it shares with the other processes of its kind on the host',
  registers: [registry],
});

/** A listener on the shared port; `close` stops taking new connections there (the ones taken are the server's). */
export interface SharedPort {
  port: number;
  close(): Promise<void>;
}

/**
 * SHARED_PORT: a second port a process listens on, together with every other process of its kind
 * on the same host, with SO_REUSEPORT. The kernel spreads new connections over the processes
 * listening, as a Kubernetes Service does in the kernel (kube-proxy's iptables or IPVS rules): no
 * process of ours copies the bytes. A process that stops closes its listener first, and the kernel
 * sends new connections to the others. Each process keeps its own port (its `<NAME>_PORT`) for
 * what must reach one process: /metrics, /readyz. Unset (0): no shared port.
 *
 * The connections accepted there are handed to `server`, so they are served, counted and drained
 * exactly as those of its own port.
 */
export async function listenOnSharedPort(server: Server, host: string, port = envInt('SHARED_PORT', 0)): Promise<SharedPort | undefined> {
  if (port === 0) return undefined;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`SHARED_PORT must be a port number (1–65535), got ${port}`);
  const listener = net.createServer((socket) => {
    accepted.inc();
    server.emit('connection', socket);
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen({ port, host, reusePort: true }, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  logger.info({ port, host }, 'also listening on the shared port');
  let closing: Promise<void> | undefined;
  return {
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        // close() stops accepting at once; its callback waits only for this listener, not the connections it handed over.
        listener.close(() => resolve());
      })),
  };
}
