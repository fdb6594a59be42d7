// An in-process Kiln server on a free loopback port, over a real database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { start } from '../../api/boot.js';
import { loadConfig } from '../../api/config.js';
import type { Agent } from '../../agent/agent.js';

export interface TestServer {
  url: string;
  agent: Agent;
  /** The server's HTTP server, for its settings. */
  http: Server;
  nodeId: string;
  stop(): Promise<void>;
}

let serial = 0;

/** A node id no other test process uses, so start-up cleanup never touches another's containers. */
export const uniqueNodeId = (): string => `${process.env.KILN_TEST_NODE_PREFIX ?? 'test'}-${process.pid}-${serial++}-${Date.now().toString(36)}`;

/** Starts a server with its own node id and socket directory, both cleaned up by stop(). */
export async function startServer(dbUrl: string, env: Record<string, string> = {}): Promise<TestServer> {
  const iofs = mkdtempSync(join(tmpdir(), 'kiln-iofs-'));
  const nodeId = env.KILN_NODE_ID ?? uniqueNodeId();
  const config = loadConfig({
    FN_PORT: '0', FN_HOST: '127.0.0.1', FN_LOG_LEVEL: 'silent', FN_DB_URL: dbUrl, FN_IOFS_PATH: iofs,
    KILN_NODE_ID: nodeId, KILN_DOCKER_PULL: 'false', ...env,
  });
  const running = await start(config);
  return {
    url: running.url,
    agent: running.agent,
    http: running.server,
    nodeId,
    stop: async () => {
      await running.stop();
      rmSync(iofs, { recursive: true, force: true });
    },
  };
}

export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** A JSON request; `body` given as a string is sent verbatim. */
export async function call<T = any>(
  base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {},
): Promise<Reply<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  let parsed: unknown = text;
  if (text !== '' && (res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed as T };
}
