import assert from 'node:assert/strict';
import { isAbsolute, resolve } from 'node:path';
import { test } from 'node:test';
import { DbUrlError, knexConfigFor } from '../../store/open.js';

const sqliteCases: { name: string; url: string; filename: string }[] = [
  { name: 'relative with ./', url: 'sqlite3://./data/fn.db', filename: resolve('./data/fn.db') },
  { name: 'relative without ./', url: 'sqlite3://data/fn.db', filename: resolve('data/fn.db') },
  { name: 'relative with ../', url: 'sqlite3://../up/fn.db', filename: resolve('../up/fn.db') },
  { name: 'absolute', url: 'sqlite3:///var/lib/kiln/fn.db', filename: '/var/lib/kiln/fn.db' },
  { name: 'in-memory', url: 'sqlite3://:memory:', filename: ':memory:' },
  { name: 'sqlite:// alias', url: 'sqlite://./fn.db', filename: resolve('./fn.db') },
  { name: 'query string ignored', url: 'sqlite3://./fn.db?_busy_timeout=5000', filename: resolve('./fn.db') },
];
for (const c of sqliteCases) {
  test(`knexConfigFor sqlite: ${c.name}`, () => {
    const config = knexConfigFor(c.url);
    assert.equal(config.client, 'better-sqlite3');
    assert.deepEqual(config.connection, { filename: c.filename });
    assert.equal(config.useNullAsDefault, true);
    if (c.filename !== ':memory:') assert.ok(isAbsolute(c.filename));
  });
}

test('knexConfigFor sqlite: each connection gets WAL, a busy timeout and foreign keys', () => {
  const afterCreate = knexConfigFor('sqlite3://:memory:').pool?.afterCreate as
    | ((conn: { pragma(s: string): unknown }, done: (err: Error | null, c: unknown) => void) => void)
    | undefined;
  assert.equal(typeof afterCreate, 'function');
  const pragmas: string[] = [];
  const conn = { pragma: (s: string): unknown => pragmas.push(s) };
  let doneWith: { err: Error | null; c: unknown } | undefined;
  afterCreate?.(conn, (err, c) => {
    doneWith = { err, c };
  });
  assert.deepEqual(pragmas, ['journal_mode = WAL', 'busy_timeout = 5000', 'foreign_keys = ON', 'synchronous = NORMAL']);
  assert.deepEqual(doneWith, { err: null, c: conn });
});

const postgresUrls = [
  'postgres://kiln:secret@localhost:5432/fn',
  'postgresql://kiln:secret@localhost:5432/fn',
  'postgres://localhost/fn?sslmode=disable',
];
for (const url of postgresUrls) {
  test(`knexConfigFor postgres: ${url}`, () => {
    assert.deepEqual(knexConfigFor(url), { client: 'pg', connection: url, pool: { min: 0, max: 10 } });
  });
}

const rejected: { name: string; url: string; message?: RegExp }[] = [
  { name: 'empty sqlite3 path', url: 'sqlite3://', message: /names no SQLite file/ },
  { name: 'empty sqlite path', url: 'sqlite://', message: /names no SQLite file/ },
  { name: 'sqlite3 query string only', url: 'sqlite3://?cache=shared', message: /names no SQLite file/ },
  { name: 'mysql', url: 'mysql://u:p@h/db', message: /unsupported scheme "mysql"/ },
  { name: 'file', url: 'file:///tmp/fn.db', message: /unsupported scheme "file"/ },
  { name: 'http', url: 'http://example.com/', message: /unsupported scheme "http"/ },
  { name: 'empty string', url: '' },
  { name: 'bare file name', url: 'fn.db' },
  // No "://" at all: these must not be mistaken for a scheme.
  { name: 'postgres: with no //', url: 'postgres:' },
  { name: 'postgresql: with no //', url: 'postgresql:' },
  { name: 'postgres followed by one stray char', url: 'postgresX' },
];
for (const c of rejected) {
  test(`knexConfigFor rejects: ${c.name} (${JSON.stringify(c.url)})`, () => {
    assert.throws(() => knexConfigFor(c.url), (err: unknown) => {
      assert.ok(err instanceof DbUrlError, `expected a DbUrlError, got ${JSON.stringify(err)}`);
      assert.ok(err.message.includes(`"${c.url}"`), 'the message quotes the URL');
      if (c.message) assert.match(err.message, c.message);
      return true;
    });
  });
}
