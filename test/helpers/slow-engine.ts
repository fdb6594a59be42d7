// A container engine that is slow to remove containers, as a healthy dockerd with hundreds of
// them is: an HTTP proxy, on a unix socket, in front of the real engine (DOCKER_HOST or the local
// socket) that passes every request on, but container removals one at a time, each `removalMs`
// late; or, held, never. Streams (attach, stats, events) pass as they come.
import { createServer, request, type ClientRequest, type IncomingMessage, type RequestOptions, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SlowEngine {
  /** DOCKER_HOST for a server to use it. */
  host: string;
  /** Removals passed on to the engine and answered. */
  readonly removed: number;
  /** From now on removals wait for ever (an engine that stopped answering them). */
  hold(): void;
  close(): Promise<void>;
}

/** Where the real engine is: a unix socket, or host and port for tcp://. */
function engineAt(dockerHost: string | undefined): RequestOptions {
  if (dockerHost === undefined || dockerHost === '') return { socketPath: '/var/run/docker.sock' };
  const u = new URL(dockerHost);
  if (u.protocol === 'unix:') return { socketPath: u.pathname };
  return { host: u.hostname, port: Number(u.port) };
}

const REMOVAL = /^\/(?:v[\d.]+\/)?containers\/[^/?]+(?:\?|$)/;

export async function slowEngine(socketPath: string, opts: { removalMs: number }): Promise<SlowEngine> {
  const target = engineAt(process.env.DOCKER_HOST);
  let removed = 0;
  let held = false;
  let queue: Promise<void> = Promise.resolve();
  let closed = false;
  /** Requests passed on and not answered whole yet: close() cuts them. */
  const upstream = new Set<ClientRequest>();
  const forward = (req: IncomingMessage, res: ServerResponse): Promise<void> =>
    new Promise<void>((done) => {
      const up = request({ ...target, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        answer.once('close', () => done());
        // The client gone while its removal waited: the engine still does it, and its answer is read to its end.
        if (res.closed) return void answer.resume();
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // An attach's head comes long before its first bytes: the client waits for it.
        res.flushHeaders();
        answer.pipe(res);
      });
      upstream.add(up);
      up.once('close', () => {
        upstream.delete(up);
        done();
      });
      up.once('error', () => {
        if (!res.closed && !res.headersSent) res.writeHead(502);
        res.end();
      });
      // The client gone (the server killed, a stream it dropped): so is the request upstream, once answered.
      res.once('close', () => {
        if (!res.writableFinished) up.destroy();
      });
      req.pipe(up);
    });
  const server = createServer((req, res) => {
    if (req.method !== 'DELETE' || !REMOVAL.test(req.url ?? '')) return void forward(req, res);
    const turn = queue.then(async () => {
      await sleep(opts.removalMs);
      if (held) await new Promise<never>(() => {});
      // Closed meanwhile (the test's clean-up): nothing more reaches the engine.
      if (closed) return;
      await forward(req, res);
      removed++;
    });
    queue = turn.catch(() => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return {
    host: `unix://${socketPath}`,
    get removed() {
      return removed;
    },
    hold: () => {
      held = true;
    },
    close: async () => {
      closed = true;
      for (const up of upstream) up.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
