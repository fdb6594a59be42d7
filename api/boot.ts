// The composition root: builds the object graph from a Config and starts listening.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { monotonicFactory } from 'ulid';
import type { Config } from './config.js';
import { createApp } from './server.js';
import { timestamp } from './models/common.js';
import { openKnex } from '../store/open.js';
import { SqlStore } from '../store/sql-store.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function start(config: Config): Promise<{ url: string; stop: () => Promise<void> }> {
  const log = pino({ level: config.logLevel, base: { svc: 'kiln' } });
  const store = new SqlStore(await openKnex(config.dbUrl));
  const ulid = monotonicFactory();
  const app = createApp({
    store,
    log,
    newId: () => ulid(),
    now: () => timestamp(),
    version: packageVersion(),
    maxRequestSize: config.maxRequestSize,
    publicUrl: config.publicUrl,
  });

  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${shown}:${port}`;
  log.info({ url, db: config.dbUrl.replace(/:[^:@/]*@/, ':***@') }, `kiln listening on ${url}`);

  const stop = async (): Promise<void> => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    await store.close();
  };
  return { url, stop };
}
