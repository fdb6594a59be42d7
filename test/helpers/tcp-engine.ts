// The real engine (DOCKER_HOST's unix socket, or the local one) on a loopback TCP port, as a
// DOCKER_HOST=tcp://... engine is reached: a byte-for-byte forwarder, on a free port.
import net from 'node:net';

export interface TcpEngine {
  /** DOCKER_HOST for a server to use it. */
  host: string;
  close(): Promise<void>;
}

export async function tcpEngine(): Promise<TcpEngine> {
  const dockerHost = process.env.DOCKER_HOST ?? '';
  const socketPath = dockerHost.startsWith('unix://') ? dockerHost.slice('unix://'.length) : '/var/run/docker.sock';
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const engine = net.connect(socketPath);
    for (const s of [client, engine]) {
      open.add(s);
      s.once('close', () => open.delete(s));
      s.on('error', () => {});
    }
    client.once('close', () => engine.destroy());
    engine.once('close', () => client.destroy());
    client.pipe(engine).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    host: `tcp://127.0.0.1:${port}`,
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
