import assert from 'node:assert/strict';
import { isAbsolute, resolve } from 'node:path';
import { test } from 'node:test';
import { DbUrlError, knexConfigFor, MYSQL_SESSION_SQL, parseMysqlUrl, type MysqlConnection } from '../../store/open.js';
import { redactDbUrl } from '../../store/redact-db-url.js';

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

// WAL is not among them: it is stored in the file, and openKnex sets it once it accepts the database.
test('knexConfigFor sqlite: each connection gets a busy timeout and foreign keys', () => {
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
  assert.deepEqual(pragmas, ['busy_timeout = 5000', 'foreign_keys = ON', 'synchronous = NORMAL']);
  assert.deepEqual(doneWith, { err: null, c: conn });
});

// openKnex shortens the busy timeout once migrated; a connection the pool makes after that gets the short one.
test('knexConfigFor sqlite: a connection gets the busy timeout as it stands when made', () => {
  const busy = { ms: 5000 };
  const afterCreate = knexConfigFor('sqlite3://:memory:', undefined, busy).pool?.afterCreate as
    (conn: { pragma(s: string): unknown }, done: (err: Error | null, c: unknown) => void) => void;
  const made = (): string[] => {
    const pragmas: string[] = [];
    afterCreate({ pragma: (s: string): unknown => pragmas.push(s) }, () => undefined);
    return pragmas.filter((p) => p.startsWith('busy_timeout'));
  };
  assert.deepEqual(made(), ['busy_timeout = 5000']);
  busy.ms = 50;
  assert.deepEqual(made(), ['busy_timeout = 50']);
});

const postgresUrls = [
  'postgres://kiln:secret@localhost:5432/fn',
  'postgresql://kiln:secret@localhost:5432/fn',
  'postgres://localhost/fn?sslmode=disable',
];
for (const url of postgresUrls) {
  test(`knexConfigFor postgres: ${url}`, () => {
    assert.deepEqual(knexConfigFor(url), {
      client: 'pg',
      connection: { connectionString: url, connectionTimeoutMillis: 30_000, keepAlive: true },
      acquireConnectionTimeout: 30_000,
      pool: { min: 0, max: 10 },
    });
  });
}

// KILN_DB_TIMEOUT_MSECS: connecting and waiting for a pooled connection are bounded (statements: store/db-timeout.ts).
test('knexConfigFor bounds connecting to PostgreSQL and MySQL by the timeout given', () => {
  const pg = knexConfigFor('postgres://u:p@db/fn', 700);
  assert.deepEqual([pg.acquireConnectionTimeout, (pg.connection as { connectionTimeoutMillis?: number }).connectionTimeoutMillis], [700, 700]);
  const my = knexConfigFor('mysql://u:p@db/fn', 700);
  assert.deepEqual([my.acquireConnectionTimeout, (my.connection as { connectTimeout?: number }).connectTimeout], [700, 700]);
  assert.equal((my.connection as { enableKeepAlive?: boolean }).enableKeepAlive, true);
});

const tcp = (host: string, port: number, user: string, password: string, database: string): MysqlConnection =>
  ({ host, port, user, password, database });

const mysqlCases: { name: string; url: string; want: MysqlConnection }[] = [
  { name: 'URL', url: 'mysql://kiln:secret@db.example:3307/fn', want: tcp('db.example', 3307, 'kiln', 'secret', 'fn') },
  { name: 'URL, default port', url: 'mysql://kiln:secret@db/fn', want: tcp('db', 3306, 'kiln', 'secret', 'fn') },
  { name: 'URL, no password', url: 'mysql://kiln@db/fn', want: tcp('db', 3306, 'kiln', '', 'fn') },
  { name: 'URL, no user', url: 'mysql://db:3306/fn', want: tcp('db', 3306, '', '', 'fn') },
  {
    name: 'URL, percent-encoded user, password and database',
    url: 'mysql://k%40iln:p%3Aw%2Fd%40x@db/my%2Ddb',
    want: tcp('db', 3306, 'k@iln', 'p:w/d@x', 'my-db'),
  },
  { name: 'URL, IPv6 host', url: 'mysql://u:p@[::1]:3306/fn', want: tcp('::1', 3306, 'u', 'p', 'fn') },
  { name: 'URL, Go driver options tolerated', url: 'mysql://u:p@db/fn?parseTime=true&charset=utf8mb4', want: tcp('db', 3306, 'u', 'p', 'fn') },
  { name: "Fn's DSN (its docs' example)", url: 'mysql://root:root@tcp(mysql:3306)/funcs', want: tcp('mysql', 3306, 'root', 'root', 'funcs') },
  { name: 'Fn DSN with parseTime', url: 'mysql://root:root@tcp(mysql:3306)/funcs?parseTime=true', want: tcp('mysql', 3306, 'root', 'root', 'funcs') },
  {
    name: 'Fn DSN with several options',
    url: 'mysql://u:p@tcp(10.0.0.5:3310)/fn?parseTime=true&loc=UTC&timeout=30s',
    want: tcp('10.0.0.5', 3310, 'u', 'p', 'fn'),
  },
  { name: 'Fn DSN, default port', url: 'mysql://u:p@tcp(db)/fn', want: tcp('db', 3306, 'u', 'p', 'fn') },
  { name: 'Fn DSN, tcp() is localhost', url: 'mysql://u:p@tcp()/fn', want: tcp('127.0.0.1', 3306, 'u', 'p', 'fn') },
  { name: 'Fn DSN, no address is localhost', url: 'mysql://u:p@/fn', want: tcp('127.0.0.1', 3306, 'u', 'p', 'fn') },
  { name: 'Fn DSN, IPv6', url: 'mysql://u:p@tcp([::1]:3307)/fn', want: tcp('::1', 3307, 'u', 'p', 'fn') },
  // The Go driver takes the password raw: everything between the first ':' and the last '@'.
  { name: 'Fn DSN, raw password with : and @', url: 'mysql://u:p:a@ss@tcp(db:3306)/fn', want: tcp('db', 3306, 'u', 'p:a@ss', 'fn') },
  { name: 'Fn DSN, no password', url: 'mysql://u@tcp(db:3306)/fn', want: tcp('db', 3306, 'u', '', 'fn') },
  { name: 'Fn DSN, no user', url: 'mysql://tcp(db:3306)/fn', want: tcp('db', 3306, '', '', 'fn') },
  {
    name: 'Fn DSN, unix socket',
    url: 'mysql://u:p@unix(/run/mysqld/mysqld.sock)/fn?parseTime=true',
    want: { socketPath: '/run/mysqld/mysqld.sock', user: 'u', password: 'p', database: 'fn' },
  },
  { name: 'tls=true verifies', url: 'mysql://u:p@db/fn?tls=true', want: { ...tcp('db', 3306, 'u', 'p', 'fn'), ssl: { rejectUnauthorized: true } } },
  {
    name: 'tls=skip-verify encrypts only',
    url: 'mysql://u:p@tcp(db:3306)/fn?parseTime=true&tls=skip-verify',
    want: { ...tcp('db', 3306, 'u', 'p', 'fn'), ssl: { rejectUnauthorized: false } },
  },
  { name: 'tls=false', url: 'mysql://u:p@db/fn?tls=false', want: tcp('db', 3306, 'u', 'p', 'fn') },
];
for (const c of mysqlCases) {
  test(`parseMysqlUrl: ${c.name}`, () => {
    assert.deepEqual(parseMysqlUrl(c.url), c.want);
  });
}

test('knexConfigFor mysql: mysql2 with utf8mb4, UTC and a pool', () => {
  const config = knexConfigFor('mysql://root:root@tcp(mysql:3306)/funcs?parseTime=true');
  assert.equal(config.client, 'mysql2');
  assert.deepEqual(config.connection, {
    host: 'mysql', port: 3306, user: 'root', password: 'root', database: 'funcs', charset: 'utf8mb4', timezone: 'Z',
    connectTimeout: 30_000, enableKeepAlive: true,
  });
  assert.equal(config.acquireConnectionTimeout, 30_000);
  assert.equal(config.pool?.min, 0);
  assert.equal(config.pool?.max, 10);
});

test('knexConfigFor mysql: each connection is made strict', () => {
  const afterCreate = knexConfigFor('mysql://u:p@db/fn').pool?.afterCreate as
    | ((conn: { query(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, c: unknown) => void) => void)
    | undefined;
  assert.equal(typeof afterCreate, 'function');
  const run: string[] = [];
  const conn = { query: (sql: string, cb: (err: Error | null) => void): void => { run.push(sql); cb(null); } };
  let doneWith: { err: Error | null; c: unknown } | undefined;
  afterCreate?.(conn, (err, c) => {
    doneWith = { err, c };
  });
  assert.deepEqual(run, [MYSQL_SESSION_SQL]);
  assert.match(MYSQL_SESSION_SQL, /STRICT_ALL_TABLES/);
  assert.deepEqual(doneWith, { err: null, c: conn });
  // A failing statement fails the connection.
  const boom = new Error('boom');
  afterCreate?.({ query: (_sql, cb) => cb(boom) }, (err) => {
    doneWith = { err, c: undefined };
  });
  assert.equal(doneWith?.err, boom);
});

const rejected: { name: string; url: string; message?: RegExp }[] = [
  { name: 'empty sqlite3 path', url: 'sqlite3://', message: /names no SQLite file/ },
  { name: 'empty sqlite path', url: 'sqlite://', message: /names no SQLite file/ },
  { name: 'sqlite3 query string only', url: 'sqlite3://?cache=shared', message: /names no SQLite file/ },
  { name: 'mongodb', url: 'mongodb://u:p@h/db', message: /unsupported scheme "mongodb" \(use sqlite3:\/\/PATH, postgres:\/\/\.\.\. or mysql:\/\/\.\.\.\)/ },
  { name: 'mariadb (Fn has no such scheme)', url: 'mariadb://u:p@h/db', message: /unsupported scheme "mariadb"/ },
  { name: 'mysql without a database', url: 'mysql://u:p@h:3306', message: /names no database/ },
  { name: 'mysql with an empty database', url: 'mysql://u:p@h:3306/', message: /names no database/ },
  { name: 'mysql DSN without a database', url: 'mysql://u:p@tcp(h:3306)/', message: /names no database/ },
  { name: 'mysql DSN without a database or slash', url: 'mysql://u:p@tcp(h:3306)', message: /names no database/ },
  { name: 'mysql DSN with only options', url: 'mysql://u:p@tcp(h:3306)/?parseTime=true', message: /names no database/ },
  { name: 'mysql port not a number', url: 'mysql://u:p@h:abc/db' },
  { name: 'mysql port out of range', url: 'mysql://u:p@h:70000/db' },
  { name: 'mysql DSN port not a number', url: 'mysql://u:p@tcp(h:abc)/db', message: /port "abc"/ },
  { name: 'mysql DSN port zero', url: 'mysql://u:p@tcp(h:0)/db', message: /port "0"/ },
  { name: 'mysql DSN port out of range', url: 'mysql://u:p@tcp(h:65536)/db', message: /port "65536"/ },
  { name: 'mysql DSN without a host', url: 'mysql://u:p@tcp(:3306)/db', message: /is not a host/ },
  { name: 'mysql DSN with another protocol', url: 'mysql://u:p@udp(h:3306)/db', message: /unsupported protocol "udp"/ },
  { name: 'mysql DSN with an empty unix socket', url: 'mysql://u:p@unix()/db', message: /names no socket/ },
  { name: 'mysql DSN with an unclosed address', url: 'mysql://u:p@tcp(h:3306/db' },
  { name: 'mysql URL without a host', url: 'mysql://u:p@:3306/db' },
  { name: 'mysql database with a slash', url: 'mysql://u:p@h/a%2Fb', message: /contains '\/'/ },
  { name: 'mysql bad percent-encoding', url: 'mysql://u:p@h/%zz', message: /percent-encoding/ },
  { name: 'mysql tls=preferred', url: 'mysql://u:p@h/db?tls=preferred', message: /tls=preferred is not supported/ },
  { name: 'mysql tls=custom config', url: 'mysql://u:p@tcp(h)/db?tls=mycerts', message: /tls=mycerts is not supported/ },
  { name: 'mysql: with no //', url: 'mysql:' },
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
      assert.ok(err.message.includes(`"${redactDbUrl(c.url)}"`), 'the message quotes the URL, masked');
      if (c.message) assert.match(err.message, c.message);
      return true;
    });
  });
}

// A rejected FN_DB_URL is quoted in the start-up error: never with its password.
const secretBearing: { name: string; url: string; message: RegExp }[] = [
  { name: 'the review’s DSN with no database', url: 'mysql://kiln:Secr3tPw@tcp(127.0.0.1:3306)', message: /^FN_DB_URL "mysql:\/\/kiln:\*\*\*@tcp\(127\.0\.0\.1:3306\)": names no database/ },
  { name: 'a DSN password with / and no database', url: 'mysql://kiln:my/Secr3tPw@tcp(db:3306)', message: /^FN_DB_URL "mysql:\/\/kiln:\*\*\*@tcp\(db:3306\)": is not a valid URL/ },
  { name: 'a URL password that is bad percent-encoding', url: 'mysql://kiln:%zzSecr3tPw@db/funcs', message: /^FN_DB_URL "mysql:\/\/kiln:\*\*\*@db\/funcs": the password is not valid percent-encoding$/ },
  { name: 'an unsupported protocol', url: 'mysql://kiln:Secr3tPw@udp(db)/funcs', message: /unsupported protocol "udp"/ },
  { name: 'an unsupported scheme', url: 'mongodb://kiln:Secr3tPw@db/funcs', message: /^FN_DB_URL "mongodb:\/\/\*\*\*": unsupported scheme "mongodb"/ },
  { name: 'no scheme', url: 'kiln:Secr3tPw@db/funcs', message: /^FN_DB_URL "\*\*\*" is not a URL/ },
];
for (const c of secretBearing) {
  test(`knexConfigFor keeps the password out of its error: ${c.name}`, () => {
    assert.throws(() => knexConfigFor(c.url), (err: unknown) => {
      assert.ok(err instanceof DbUrlError);
      assert.doesNotMatch(err.message, /Secr3tPw/);
      assert.match(err.message, c.message);
      return true;
    });
  });
}
