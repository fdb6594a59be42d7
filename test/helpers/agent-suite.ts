// What every agent test suite sets up: a server on a fresh SQLite file with its own node id,
// one app, the tester image, and helpers to make fns, invoke them and read their calls.
// close() stops the server and checks that it removed every container it started.
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { sqliteDb, type TestDb } from './db.js';
import { docker as dockerClient, fixtureImage } from './images.js';
import { nodeContainers } from './containers.js';
import { call, startServer, type Reply, type TestServer } from './server.js';

export interface RecordedCall {
  id: string;
  status: string;
  error?: string;
}

export interface AgentSuite {
  srv: TestServer;
  db: TestDb;
  docker: Docker;
  tester: string;
  appId: string;
  /** A fn of the suite's app on the tester image unless `fields` say otherwise. */
  mkFn(name: string, fields?: Record<string, unknown>): Promise<{ id: string; name: string }>;
  invoke(fnId: string, body?: unknown, headers?: Record<string, string>): Promise<Reply<any>>;
  /** The fn's calls, newest first, once queued records are written. */
  calls(fnId: string): Promise<RecordedCall[]>;
  /** Restarts the server on the same database and node id (so it starts with no containers). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function agentSuite(
  appName: string, env: Record<string, string> = {}, appConfig: Record<string, string> = {},
): Promise<AgentSuite> {
  const docker = dockerClient();
  const tester = await fixtureImage('tester');
  const db = await sqliteDb();
  let srv = await startServer(db.url, env);
  const appId = (await call(srv.url, 'POST', '/v2/apps', { name: appName, config: appConfig })).body.id as string;

  const suite: AgentSuite = {
    get srv() {
      return srv;
    },
    db,
    docker,
    tester,
    appId,
    mkFn: async (name, fields = {}) => {
      const r = await call(srv.url, 'POST', '/v2/fns', { name, app_id: appId, image: tester, ...fields });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body as { id: string; name: string };
    },
    invoke: (fnId, body = {}, headers = {}) =>
      call(srv.url, 'POST', `/invoke/${fnId}`, typeof body === 'string' ? body : JSON.stringify(body), headers),
    calls: async (fnId) => {
      await srv.agent.flushRecords();
      return (await call(srv.url, 'GET', `/v2/fns/${fnId}/calls`)).body.items as RecordedCall[];
    },
    restart: async () => {
      await srv.stop();
      srv = await startServer(db.url, { ...env, KILN_NODE_ID: srv.nodeId });
    },
    close: async () => {
      const nodeId = srv.nodeId;
      await srv.stop();
      await db.cleanup();
      assert.deepEqual(await nodeContainers(docker, nodeId), [], 'shutdown removes every container');
    },
  };
  return suite;
}
