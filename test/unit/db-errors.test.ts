// How each driver's errors are classified: unique and foreign-key violations, values too long for a
// column, waits that ran out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatabaseConnectionLostError, DatabaseFullError, DatabaseTimeoutError, DatabaseUnavailableError } from '../../store/errors.js';
import { callWriteError, isConnectionLost, isDiskFull, isForeignKeyViolation, isSqliteBusy, isTimeout, isUnavailable, isUniqueViolation, longestIndexed, tooLongValue, typedDbError, unencodableColumn, type TooLongValue } from '../../store/db-errors.js';
import { dbErrorForLog, isDatabaseError, loggedError } from '../../store/db-log.js';

/** pg's DatabaseError as it comes for 22001: a message, a code, and no column, table or constraint. */
const pgError = (code: string, message: string): Error => Object.assign(new Error(message), {
  name: 'error', severity: 'ERROR', code, column: undefined, table: undefined, constraint: undefined,
  file: 'varchar.c', routine: 'varchar',
});
/** mysql2's error: code is the symbolic name, errno the number, sqlState the SQLSTATE. */
const mysqlError = (code: string, errno: number, sqlState: string, sqlMessage: string): Error =>
  Object.assign(new Error(sqlMessage), { code, errno, sqlState, sqlMessage });
/** better-sqlite3's SqliteError. */
const sqliteError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

const cases: { name: string; err: unknown; tooLong: TooLongValue | undefined; unique: boolean }[] = [
  {
    name: 'PostgreSQL 22001 on varchar(256): no column, the length from the message',
    err: pgError('22001', 'value too long for type character varying(256)'),
    tooLong: { maxLength: 256 }, unique: false,
  },
  {
    name: 'PostgreSQL 22001 on char(5)',
    err: pgError('22001', 'value too long for type character(5)'),
    tooLong: { maxLength: 5 }, unique: false,
  },
  {
    name: 'PostgreSQL 22001 in a message without a length (another lc_messages)',
    err: pgError('22001', 'valeur trop longue'),
    tooLong: {}, unique: false,
  },
  {
    name: "PostgreSQL 54000: a unique index's row over the b-tree limit names the index",
    err: pgError('54000', 'index row size 6048 exceeds btree version 4 maximum 2704 for index "triggers_app_id_type_source_unique"'),
    tooLong: { index: 'triggers_app_id_type_source_unique' }, unique: false,
  },
  {
    name: 'PostgreSQL 54000 of another kind (too many arguments) is not a value too long',
    err: pgError('54000', 'cannot pass more than 100 arguments to a function'),
    tooLong: undefined, unique: false,
  },
  {
    name: 'PostgreSQL unique violation',
    err: pgError('23505', 'duplicate key value violates unique constraint "apps_name_key"'),
    tooLong: undefined, unique: true,
  },
  {
    name: 'MySQL 1406 names the column',
    err: mysqlError('ER_DATA_TOO_LONG', 1406, '22001', "Data too long for column 'image' at row 1"),
    tooLong: { column: 'image' }, unique: false,
  },
  {
    name: 'MySQL 1406 by number alone',
    err: { errno: 1406, sqlMessage: "Data too long for column 'source' at row 1" },
    tooLong: { column: 'source' }, unique: false,
  },
  {
    name: 'MySQL 1406 with a message naming no column',
    err: mysqlError('ER_DATA_TOO_LONG', 1406, '22001', 'Data too long'),
    tooLong: {}, unique: false,
  },
  {
    name: 'MySQL duplicate entry',
    err: mysqlError('ER_DUP_ENTRY', 1062, '23000', "Duplicate entry 'a' for key 'apps_name_unique'"),
    tooLong: undefined, unique: true,
  },
  {
    name: "MySQL's other 22001-state errors are not pg's 22001",
    err: mysqlError('ER_TRUNCATED_WRONG_VALUE', 1292, '22007', 'Truncated incorrect value'),
    tooLong: undefined, unique: false,
  },
  {
    name: 'SQLite unique violation',
    err: sqliteError('SQLITE_CONSTRAINT_UNIQUE', 'UNIQUE constraint failed: apps.name'),
    tooLong: undefined, unique: true,
  },
  {
    name: 'SQLite primary key violation',
    err: sqliteError('SQLITE_CONSTRAINT_PRIMARYKEY', 'UNIQUE constraint failed: apps.id'),
    tooLong: undefined, unique: true,
  },
  {
    // SQLite stores any length in any column; its one size error is a value past SQLITE_MAX_LENGTH (1 GB).
    name: 'SQLite never reports a value too long for a column',
    err: sqliteError('SQLITE_TOOBIG', 'string or blob too big'),
    tooLong: undefined, unique: false,
  },
  { name: 'a plain Error', err: new Error('boom'), tooLong: undefined, unique: false },
  { name: 'null', err: null, tooLong: undefined, unique: false },
  { name: 'a string', err: 'oops', tooLong: undefined, unique: false },
];

for (const c of cases) {
  test(`classifies ${c.name}`, () => {
    assert.deepEqual(tooLongValue(c.err), c.tooLong);
    assert.equal(isUniqueViolation(c.err), c.unique);
  });
}

const indexed: { name: string; row: Record<string, unknown>; index: string; column: string | undefined }[] = [
  { name: "a trigger's source, the longest of the index's columns", row: { app_id: '01ARZ3NDEKTSV4RRFFQ69G5FAV', type: 'http', source: `/${'x'.repeat(3000)}`, name: 'n'.repeat(5000) }, index: 'triggers_app_id_type_source_unique', column: 'source' },
  { name: 'a short value in a listed column is still the longest there', row: { app_id: 'a', name: 'b'.repeat(9) }, index: 'fns_app_id_name_unique', column: 'name' },
  { name: 'no listed column among the values', row: { image: 'x'.repeat(9000) }, index: 'fns_app_id_name_unique', column: undefined },
  { name: 'numbers are never the culprit', row: { memory: 128, name: 'x' }, index: 'fns_name_memory_unique', column: 'name' },
];

for (const c of indexed) {
  test(`the column that outgrew an index: ${c.name}`, () => {
    assert.equal(longestIndexed(c.row, c.index), c.column);
  });
}

// MySQL's 1366: a character the column's character set (latin1 in an Fn database made on MySQL 5.7) cannot hold.
const unencodable: { name: string; err: unknown; column: string | null | undefined }[] = [
  { name: "MariaDB names the column in quotes", err: mysqlError('ER_TRUNCATED_WRONG_VALUE_FOR_FIELD', 1366, '22007', "Incorrect string value: '\\xF0\\x9F\\x99\\x82' for column 'image' at row 1"), column: 'image' },
  { name: 'MySQL 8 names it with its schema and table', err: mysqlError('ER_TRUNCATED_WRONG_VALUE_FOR_FIELD', 1366, 'HY000', "Incorrect string value: '\\xF0\\x9F\\x99\\x82' for column `funcs`.`fns`.`image` at row 1"), column: 'image' },
  { name: 'by number, naming no column', err: { errno: 1366, sqlMessage: 'Incorrect string value' }, column: null },
  { name: 'a value too long is not this', err: mysqlError('ER_DATA_TOO_LONG', 1406, '22001', "Data too long for column 'image' at row 1"), column: undefined },
  { name: "PostgreSQL's encoding errors never reach a column this way", err: pgError('22021', 'invalid byte sequence for encoding "UTF8": 0x00'), column: undefined },
  { name: 'null', err: null, column: undefined },
];

for (const c of unencodable) {
  test(`unencodableColumn: ${c.name}`, () => assert.equal(unencodableColumn(c.err), c.column));
}

// A write naming a parent row that is gone (a delete racing the API's check), as each driver reports it.
const foreignKey: { name: string; err: unknown; is: boolean }[] = [
  { name: 'PostgreSQL 23503', err: pgError('23503', 'insert or update on table "fns" violates foreign key constraint "fns_app_id_foreign"'), is: true },
  { name: 'SQLite', err: sqliteError('SQLITE_CONSTRAINT_FOREIGNKEY', 'FOREIGN KEY constraint failed'), is: true },
  { name: 'MySQL 1452', err: mysqlError('ER_NO_REFERENCED_ROW_2', 1452, '23000', 'Cannot add or update a child row: a foreign key constraint fails'), is: true },
  { name: 'MySQL 1452 by number alone', err: { errno: 1452 }, is: true },
  { name: 'MySQL 1216 (servers before 5.1)', err: mysqlError('ER_NO_REFERENCED_ROW', 1216, '23000', 'Cannot add or update a child row'), is: true },
  { name: 'a PostgreSQL unique violation is not one', err: pgError('23505', 'duplicate key value'), is: false },
  { name: 'a SQLite unique violation is not one', err: sqliteError('SQLITE_CONSTRAINT_UNIQUE', 'UNIQUE constraint failed: apps.name'), is: false },
  { name: 'a MySQL duplicate entry is not one', err: mysqlError('ER_DUP_ENTRY', 1062, '23000', 'Duplicate entry'), is: false },
  { name: 'a plain Error', err: new Error('boom'), is: false },
  { name: 'null', err: null, is: false },
];

for (const c of foreignKey) {
  test(`isForeignKeyViolation: ${c.name}`, () => assert.equal(isForeignKeyViolation(c.err), c.is));
}

// A wait on the database that ran out (a connection), as knex and each driver report it.
const timeouts: { name: string; err: unknown; is: boolean }[] = [
  { name: "knex's pool: no connection within acquireConnectionTimeout", err: Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' }), is: true },
  { name: "pg's connectionTimeoutMillis", err: new Error('timeout expired'), is: true },
  { name: "mysql2's connectTimeout", err: Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT', errorno: 'ETIMEDOUT' }), is: true },
  { name: "the OS's connect timeout", err: Object.assign(new Error('connect ETIMEDOUT 10.0.0.1:5432'), { code: 'ETIMEDOUT', errno: -110, syscall: 'connect' }), is: true },
  { name: 'a refused connection is not one', err: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), is: false },
  { name: "PostgreSQL's own statement_timeout is not one (the server answered)", err: pgError('57014', 'canceling statement due to statement timeout'), is: false },
  { name: 'a database error that happens to say "timeout expired" is not one', err: pgError('XX000', 'timeout expired'), is: false },
  { name: 'a plain Error', err: new Error('boom'), is: false },
  { name: 'null', err: null, is: false },
];

for (const c of timeouts) {
  test(`isTimeout: ${c.name}`, () => assert.equal(isTimeout(c.err), c.is));
}

// SQLite's busy answers, which a write retries whole (store/sqlite-busy.ts).
// What the call recorder does not retry row by row: the database, not a row, is the trouble.
const unavailable: { name: string; err: unknown; is: boolean }[] = [
  { name: "Kiln's own bound (KILN_DB_TIMEOUT_MSECS)", err: new DatabaseTimeoutError(30_000), is: true },
  { name: "knex's pool timeout", err: Object.assign(new Error('Knex: Timeout acquiring a connection'), { name: 'KnexTimeoutError' }), is: true },
  { name: 'connection refused', err: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), is: true },
  { name: "a connection lost mid-statement (MariaDB drops one over max_allowed_packet): a row's fault", err: Object.assign(new Error('Connection lost'), { code: 'PROTOCOL_CONNECTION_LOST' }), is: false },
  { name: 'a connection reset: the same', err: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), is: false },
  { name: 'PostgreSQL shutting down', err: pgError('57P01', 'terminating connection due to administrator command'), is: true },
  { name: 'PostgreSQL out of connections', err: pgError('53300', 'sorry, too many clients already'), is: true },
  { name: 'MySQL out of connections', err: mysqlError('ER_CON_COUNT_ERROR', 1040, '08004', 'Too many connections'), is: true },
  { name: "Kiln's own DatabaseUnavailableError: as its driver's error", err: new DatabaseUnavailableError('x', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }) }), is: true },
  { name: "Kiln's own DatabaseUnavailableError of a lost connection is not", err: new DatabaseUnavailableError('x', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }), is: false },
  { name: 'PostgreSQL read-only (a hot standby)', err: pgError('25006', 'cannot execute INSERT in a read-only transaction'), is: true },
  { name: 'MariaDB --read-only', err: mysqlError('ER_OPTION_PREVENTS_STATEMENT', 1290, 'HY000', 'The MariaDB server is running with the --read-only option so it cannot execute this statement'), is: true },
  { name: 'a unique violation', err: pgError('23505', 'duplicate key value violates unique constraint'), is: false },
  { name: "MySQL's packet too large", err: mysqlError('ER_NET_PACKET_TOO_LARGE', 1153, '08S01', 'Got a packet bigger than max_allowed_packet'), is: false },
  { name: 'not an error object', err: 'x', is: false },
];
for (const c of unavailable) {
  test(`isUnavailable: ${c.name}`, () => assert.equal(isUnavailable(c.err), c.is));
}

// A database whose storage is full: every write fails until space is freed, then works. Real
// PostgreSQL and MariaDB cannot be filled here (SQLite's is, in test/store/disk-full.test.ts), so
// each driver's error as it throws it.
const full: { name: string; err: unknown; is: boolean }[] = [
  { name: "SQLite's SQLITE_FULL (better-sqlite3)", err: sqliteError('SQLITE_FULL', 'database or disk is full'), is: true },
  { name: 'PostgreSQL 53100 disk_full', err: pgError('53100', 'could not extend file "base/16384/16397": No space left on device'), is: true },
  { name: 'MySQL/MariaDB 1114 ER_RECORD_FILE_FULL', err: mysqlError('ER_RECORD_FILE_FULL', 1114, 'HY000', "The table 'calls' is full"), is: true },
  { name: 'MySQL/MariaDB 1021 ER_DISK_FULL', err: mysqlError('ER_DISK_FULL', 1021, 'HY000', 'Disk full (./kiln/calls.ibd); waiting for someone to free some space...'), is: true },
  { name: "Kiln's own DatabaseFullError", err: new DatabaseFullError('the database is full: x', { cause: sqliteError('SQLITE_FULL', 'database or disk is full') }), is: true },
  { name: 'PostgreSQL 53200 out_of_memory is not (one statement may cause it)', err: pgError('53200', 'out of memory'), is: false },
  { name: "SQLite's SQLITE_IOERR is not", err: sqliteError('SQLITE_IOERR', 'disk I/O error'), is: false },
  { name: 'a unique violation is not', err: pgError('23505', 'duplicate key value violates unique constraint'), is: false },
  { name: 'null', err: null, is: false },
];
for (const c of full) {
  test(`isDiskFull: ${c.name}`, () => assert.equal(isDiskFull(c.err), c.is));
  // The call recorder holds the calls of a full database and writes them again, as an unreachable one's.
  test(`isUnavailable, a full database: ${c.name}`, () => assert.equal(isUnavailable(c.err), c.is));
  // The store types them, for the API's 503 `database is full`.
  test(`typedDbError, a full database: ${c.name}`, () => {
    const typed = typedDbError(c.err);
    assert.equal(typed instanceof DatabaseFullError, c.is);
    if (c.is && !(c.err instanceof DatabaseFullError)) {
      assert.equal((typed as Error).cause, c.err);
      assert.doesNotMatch((typed as Error).message, /insert into/i);
    }
  });
}

test('typedDbError: a refused connection is DatabaseUnavailableError (not full), any other error as it is', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const typed = typedDbError(refused);
  assert.ok(typed instanceof DatabaseUnavailableError && !(typed instanceof DatabaseFullError));
  const unique = pgError('23505', 'duplicate key value violates unique constraint');
  assert.equal(typedDbError(unique), unique);
});

// What the API answers 503 for too: a pooled connection the stopped server closed.
const lost: { name: string; err: unknown; is: boolean }[] = [
  { name: "pg's closed connection", err: new Error('Connection terminated unexpectedly'), is: true },
  { name: 'the same after the statement knex puts before it', err: new Error('select * from "apps" where "id" = $1 - Connection terminated unexpectedly'), is: true },
  { name: "mysql2's ended socket", err: Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' }), is: true },
  { name: "mysql2's closed connection", err: new Error("Can't add new command when connection is in closed state"), is: true },
  { name: 'a statement naming the words is not', err: new Error("select 'Connection terminated unexpectedly'"), is: false },
  { name: 'a unique violation is not', err: pgError('23505', 'duplicate key value violates unique constraint'), is: false },
];
for (const c of lost) {
  test(`isConnectionLost: ${c.name}`, () => assert.equal(isConnectionLost(c.err), c.is));
}

const sqliteBusy: { name: string; err: unknown; is: boolean }[] = [
  { name: 'SQLITE_BUSY', err: sqliteError('SQLITE_BUSY', 'database is locked'), is: true },
  { name: 'SQLITE_BUSY_SNAPSHOT', err: sqliteError('SQLITE_BUSY_SNAPSHOT', 'database is locked'), is: true },
  { name: 'SQLITE_BUSY_RECOVERY', err: sqliteError('SQLITE_BUSY_RECOVERY', 'database is locked'), is: true },
  { name: 'SQLITE_BUSY_TIMEOUT', err: sqliteError('SQLITE_BUSY_TIMEOUT', 'database is locked'), is: true },
  { name: 'SQLITE_LOCKED is not (a conflict within one connection)', err: sqliteError('SQLITE_LOCKED', 'database table is locked'), is: false },
  { name: 'a SQLite unique violation is not', err: sqliteError('SQLITE_CONSTRAINT_UNIQUE', 'UNIQUE constraint failed: apps.name'), is: false },
  { name: 'a code that only begins alike is not', err: sqliteError('SQLITE_BUSYNESS', 'no such code'), is: false },
  { name: "MySQL's lock wait timeout is not", err: mysqlError('ER_LOCK_WAIT_TIMEOUT', 1205, 'HY000', 'Lock wait timeout exceeded'), is: false },
  { name: 'a plain Error', err: new Error('database is locked'), is: false },
  { name: 'null', err: null, is: false },
];

for (const c of sqliteBusy) {
  test(`isSqliteBusy: ${c.name}`, () => assert.equal(isSqliteBusy(c.err), c.is));
}

// A database error as logged: never knex's statement (MySQL's with its values), nor the stack.
const knexed = <E extends Error>(sql: string, err: E): E => Object.assign(err, { message: `${sql} - ${err.message}` });
const insert = "insert into `call_logs` (`call_id`, `fn_id`, `log`) values ('C1', 'F1', 'a - b - c')";
const loggedCases: { name: string; err: unknown; logged: ReturnType<typeof dbErrorForLog> }[] = [
  {
    name: "MySQL's error through knex: its own message, code and errno",
    err: knexed(insert, mysqlError('ER_DUP_ENTRY', 1062, '23000', "Duplicate entry 'C1' for key 'PRIMARY'")),
    logged: { type: 'Error', message: "Duplicate entry 'C1' for key 'PRIMARY'", code: 'ER_DUP_ENTRY', errno: 1062 },
  },
  {
    name: "a connection lost under knex (no sqlMessage): what follows the statement, ' - ' in its values or not",
    err: knexed(insert, Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true })),
    logged: { type: 'Error', message: 'Connection lost: The server closed the connection.', code: 'PROTOCOL_CONNECTION_LOST' },
  },
  {
    name: "PostgreSQL's error through knex",
    err: knexed('insert into "calls" ("id") values ($1)', pgError('23505', 'duplicate key value violates unique constraint "calls_pkey"')),
    logged: { type: 'Error', message: 'duplicate key value violates unique constraint "calls_pkey"', code: '23505' },
  },
  {
    name: "SQLite's own error (Kiln's call writer, no knex): as it is",
    err: sqliteError('SQLITE_CONSTRAINT_PRIMARYKEY', 'UNIQUE constraint failed: calls.id'),
    logged: { type: 'Error', message: 'UNIQUE constraint failed: calls.id', code: 'SQLITE_CONSTRAINT_PRIMARYKEY' },
  },
  {
    name: 'a message that is not a statement keeps its dashes',
    err: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432 - retrying'), { code: 'ECONNREFUSED', errno: -111 }),
    logged: { type: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:5432 - retrying', code: 'ECONNREFUSED', errno: -111 },
  },
  {
    name: 'a long message is cut',
    err: new Error('x'.repeat(5000)),
    logged: { type: 'Error', message: `${'x'.repeat(1000)}…` },
  },
  { name: 'not an Error', err: 'boom', logged: { message: 'boom' } },
];
for (const c of loggedCases) {
  test(`dbErrorForLog: ${c.name}`, () => {
    assert.deepEqual(dbErrorForLog(c.err), c.logged);
  });
}

test('isDatabaseError and loggedError: no statement or value of a database error reaches the log', () => {
  const secret = 'sk_live_SUPERSECRET123';
  const cases: { name: string; err: unknown; db: boolean }[] = [
    {
      name: 'better-sqlite3 through knex',
      err: Object.assign(new Error(`insert into \`fns\` (\`config\`) values ('{"KEY":"${secret}"}') - SQLITE_BUSY: database is locked`), { code: 'SQLITE_BUSY' }),
      db: true,
    },
    { name: 'mysql2', err: Object.assign(new Error(`insert into fns values ('${secret}') - Unknown database 'x'`), { sqlMessage: "Unknown database 'x'", sql: `insert into fns values ('${secret}')`, code: 'ER_BAD_DB_ERROR', errno: 1049 }), db: true },
    { name: 'pg', err: Object.assign(new Error(`select * from "apps" where "name" = $1 - relation "apps" does not exist`), { severity: 'ERROR', routine: 'parserOpenTable', code: '42P01' }), db: true },
    { name: 'a database timeout', err: new DatabaseTimeoutError(1000, 'the database did not answer within 1000 ms', { cause: new Error(`update fns set config = '${secret}' - timeout`) }), db: false },
    { name: 'a bug', err: new TypeError("Cannot read properties of undefined (reading 'id')"), db: false },
  ];
  for (const c of cases) {
    assert.equal(isDatabaseError(c.err), c.db, c.name);
    const logged = loggedError(c.err);
    const text = JSON.stringify(logged);
    assert.ok(!text.includes(secret), `${c.name}: ${text}`);
    if (c.name === 'a bug') assert.deepEqual(logged, { err: c.err }, 'other errors are logged whole, stack and all');
    else assert.ok('error' in logged, c.name);
  }
});

// The call recorder decides by type alone (agent/call-recorder.ts): callWriteError must type each
// error as isUnavailable and isConnectionLost read the driver's error.
const recorderCases: { name: string; err: unknown; held: boolean; lost: boolean; full: boolean }[] = [
  { name: 'a refused connection', err: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), held: true, lost: false, full: false },
  { name: "knex's pool timeout", err: Object.assign(new Error('Knex: Timeout acquiring a connection'), { name: 'KnexTimeoutError' }), held: true, lost: false, full: false },
  { name: 'ETIMEDOUT', err: Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }), held: true, lost: false, full: false },
  { name: "Kiln's timeout", err: new DatabaseTimeoutError(50), held: true, lost: false, full: false },
  { name: 'a full disk (SQLite)', err: sqliteError('SQLITE_FULL', 'database or disk is full'), held: true, lost: false, full: true },
  { name: 'a full disk, typed', err: typedDbError(pgError('53100', 'could not extend file')), held: true, lost: false, full: true },
  { name: 'a read-only database', err: pgError('25006', 'cannot execute INSERT in a read-only transaction'), held: true, lost: false, full: false },
  { name: "pg's closed connection", err: new Error('Connection terminated unexpectedly'), held: false, lost: true, full: false },
  { name: 'a reset connection, typed', err: typedDbError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), held: false, lost: true, full: false },
  { name: 'a unique violation', err: pgError('23505', 'duplicate key value violates unique constraint'), held: false, lost: false, full: false },
];
for (const c of recorderCases) {
  test(`callWriteError: ${c.name}`, () => {
    const typed = callWriteError(c.err);
    const held = typed instanceof DatabaseTimeoutError || (typed instanceof DatabaseUnavailableError && !(typed instanceof DatabaseConnectionLostError));
    assert.deepEqual({ held, lost: typed instanceof DatabaseConnectionLostError, full: typed instanceof DatabaseFullError }, { held: c.held, lost: c.lost, full: c.full });
    assert.equal(held, isUnavailable(c.err), 'held exactly when isUnavailable');
    assert.equal(isUnavailable(typed), isUnavailable(c.err), 'the typed error says what the driver said');
  });
}
