// A Docker engine API on a unix socket that answers as the test says: for the cookie's requests
// when the engine hangs or breaks a connection, which the shared engine must never be made to do.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';

/** Handles one request (path without the API version); returns false to answer 404. */
export type Route = (req: IncomingMessage, res: ServerResponse, path: string) => boolean | void;

export interface FakeEngine {
  docker: Docker;
  /** Requests seen, as `METHOD /path` (no version, no query). */
  readonly seen: string[];
  close(): Promise<void>;
}

export async function fakeEngine(route: Route): Promise<FakeEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-fake-engine-'));
  const socketPath = join(dir, 'docker.sock');
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '').replace(/^\/v[\d.]+/, '').replace(/\?.*$/, '');
    seen.push(`${req.method} ${path}`);
    req.resume();
    if (route(req, res, path) === false) res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"no such thing"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return {
    docker: new Docker({ socketPath }),
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Answers with a JSON body. */
export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
