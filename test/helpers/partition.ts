// A database that stops answering, as a SIGSTOPped server or a network partition does: its TCP
// connections stay open and nothing comes back. A proxy in front of the real server passes bytes
// until cut(), then holds them (new connections too, accepted and left waiting) until heal().
// A black hole is such a proxy with no server behind it: it accepts and never answers.
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

export interface Partition {
  /** `dbUrl` (a postgres:// or mysql:// URL) pointed at the proxy. */
  urlFor(dbUrl: string): string;
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

async function proxy(target: { host: string; port: number } | undefined): Promise<Partition> {
  const sockets = new Set<Socket>();
  let cut = target === undefined;
  const track = (s: Socket): Socket => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {}); // a peer gone is this test's business, not an uncaught error
    return s;
  };
  const server = createServer((client) => {
    track(client);
    if (target) {
      const upstream = track(createConnection(target));
      client.on('data', (d) => upstream.write(d));
      upstream.on('data', (d) => client.write(d));
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      if (cut) upstream.pause();
    }
    // After the 'data' listeners, which would set it flowing again.
    if (cut) client.pause();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    urlFor: (dbUrl) => {
      const u = new URL(dbUrl);
      u.host = `127.0.0.1:${port}`;
      return u.toString();
    },
    cut: () => {
      cut = true;
      for (const s of sockets) s.pause();
    },
    heal: () => {
      cut = target === undefined;
      if (!cut) for (const s of sockets) s.resume();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A proxy to the server of `dbUrl`, passing bytes until cut. */
export function partitionable(dbUrl: string): Promise<Partition> {
  const u = new URL(dbUrl);
  return proxy({ host: u.hostname, port: Number(u.port) });
}

/** A server that accepts connections and never answers. */
export function blackHole(): Promise<Partition> {
  return proxy(undefined);
}
