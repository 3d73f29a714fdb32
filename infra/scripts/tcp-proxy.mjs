// A round-robin TCP load balancer: one port in front of several replicas, as a Kubernetes Service
// (kube-proxy balances connections, not requests) stands in front of a Deployment's pods. A backend
// that refuses the connection is skipped for that connection, as a pod that is not ready would be.
import net from 'node:net';

/**
 * @param {{ port: number, backends: number[], host?: string }} options
 * @returns {Promise<{ port: number, connections: number[], close(): Promise<void> }>}
 */
export async function startTcpProxy({ port, backends, host = '127.0.0.1' }) {
  const connections = backends.map(() => 0);
  const sockets = new Set();
  let next = 0;
  const connect = (client, tries) => {
    const index = next++ % backends.length;
    const upstream = net.connect({ host, port: backends[index] });
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      connections[index] += 1;
      client.pipe(upstream).pipe(client);
      client.resume();
    });
    upstream.once('error', () => {
      if (!connected && tries + 1 < backends.length) return connect(client, tries + 1);
      client.destroy();
    });
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => connected && client.destroy());
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
  };
  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    client.on('error', () => undefined);
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    connect(client, 0);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    port,
    connections,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
