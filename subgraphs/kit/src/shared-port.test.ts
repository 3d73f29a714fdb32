import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listenOnSharedPort, type SharedPort } from './shared-port.js';

/** A port nothing listens on now (the kernel's choice for listen(0), released at once). */
const unusedPort = () =>
  new Promise<number>((resolve) => {
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });

/** One GET on a connection of its own: the name of the server that answered. */
const whoAnswers = (port: number) =>
  new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });

describe('listenOnSharedPort', () => {
  const servers: http.Server[] = [];
  const shared: SharedPort[] = [];
  afterEach(async () => {
    await Promise.all(shared.splice(0).map((s) => s.close()));
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  /** A server named `name` on a port of its own, also on the shared `port`. */
  const start = async (name: string, port: number) => {
    const server = http.createServer((_req, res) => res.end(name));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const listener = await listenOnSharedPort(server, '127.0.0.1', port);
    shared.push(listener!);
    return { server, listener: listener!, own: (server.address() as net.AddressInfo).port };
  };

  it('lets two processes take connections on one port, the kernel spreading them, and stops one taking new ones at close', async () => {
    const port = await unusedPort();
    const a = await start('a', port);
    await start('b', port);
    const answers = await Promise.all(Array.from({ length: 64 }, () => whoAnswers(port)));
    // Both took some (all 64 going to one of two by chance: 2^-63).
    expect(new Set(answers)).toEqual(new Set(['a', 'b']));

    await a.listener.close();
    const after = await Promise.all(Array.from({ length: 16 }, () => whoAnswers(port)));
    expect(new Set(after)).toEqual(new Set(['b']));
    // Its own port still serves (what must reach one process: /metrics, /readyz).
    expect(await whoAnswers(a.own)).toBe('a');
  });

  it('is off without a port, and refuses a port number that is not one', async () => {
    const server = http.createServer();
    expect(await listenOnSharedPort(server, '127.0.0.1', 0)).toBeUndefined();
    await expect(listenOnSharedPort(server, '127.0.0.1', 70_000)).rejects.toThrow('SHARED_PORT must be a port number (1–65535), got 70000');
  });

  it('fails to start when the port is held by a process that does not share it', async () => {
    const port = await unusedPort();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      await expect(listenOnSharedPort(http.createServer(), '127.0.0.1', port)).rejects.toThrow('EADDRINUSE');
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
