// A write the database rolled back as a deadlock's victim runs again; one that loses every time
// is a 503 to send again, never a 500.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEADLOCK_ATTEMPTS, deadlockPauseMs, retryDeadlocks } from '../../store/deadlock-retry.js';
import { isDeadlock } from '../../store/db-errors.js';
import { DatabaseConflictError } from '../../store/errors.js';
import { toHttpError, toLambdaError } from '../../api/errors.js';

/** mysql2's error for InnoDB's deadlock: the symbolic code, errno 1213, SQLSTATE 40001. */
const mysqlDeadlock = (): Error => Object.assign(new Error('Deadlock found when trying to get lock; try restarting transaction'),
  { code: 'ER_LOCK_DEADLOCK', errno: 1213, sqlState: '40001', sqlMessage: 'Deadlock found when trying to get lock; try restarting transaction' });
const pgError = (code: string, message: string): Error => Object.assign(new Error(message), { code, severity: 'ERROR', routine: 'DeadLockReport' });

test('isDeadlock: MySQL 1213, PostgreSQL 40P01 and 40001; not a lock wait timeout, a unique violation or SQLite busy', () => {
  assert.equal(isDeadlock(mysqlDeadlock()), true);
  assert.equal(isDeadlock({ errno: 1213 }), true);
  assert.equal(isDeadlock(pgError('40P01', 'deadlock detected')), true);
  assert.equal(isDeadlock(pgError('40001', 'could not serialize access due to concurrent update')), true);
  assert.equal(isDeadlock({ code: 'ER_LOCK_WAIT_TIMEOUT', errno: 1205 }), false);
  assert.equal(isDeadlock({ code: 'ER_DUP_ENTRY', errno: 1062 }), false);
  assert.equal(isDeadlock({ code: 'SQLITE_BUSY' }), false);
  assert.equal(isDeadlock(undefined), false);
});

test('a write rolled back as a deadlock victim runs again, whole, and its result is returned', async () => {
  let runs = 0;
  const got = await retryDeadlocks(async () => {
    runs++;
    if (runs < 3) throw runs === 1 ? mysqlDeadlock() : pgError('40P01', 'deadlock detected');
    return 'written';
  }, DEADLOCK_ATTEMPTS, () => 1);
  assert.equal(got, 'written');
  assert.equal(runs, 3);
});

test('a write that loses every time is given up after its runs: a 503 with Retry-After, the deadlock as its cause', async () => {
  let runs = 0;
  const last = mysqlDeadlock();
  const err = await retryDeadlocks(async () => {
    runs++;
    throw runs === DEADLOCK_ATTEMPTS ? last : mysqlDeadlock();
  }, DEADLOCK_ATTEMPTS, () => 1).then(() => assert.fail('resolved'), (e: unknown) => e);
  assert.equal(runs, DEADLOCK_ATTEMPTS);
  assert.ok(err instanceof DatabaseConflictError);
  assert.equal(err.cause, last);
  const message = 'database conflict: the write met others changing the same rows; try again';
  assert.deepEqual(toHttpError(err), { status: 503, body: { message }, headers: { 'Retry-After': '1' } });
  assert.deepEqual(toLambdaError(err), { kind: 'platform', status: 503, type: 'ServiceException', message, headers: { 'Retry-After': '1' } });
});

test('any other failure is thrown at once, as it is', async () => {
  let runs = 0;
  const dup = Object.assign(new Error('Duplicate entry'), { code: 'ER_DUP_ENTRY', errno: 1062 });
  await assert.rejects(retryDeadlocks(async () => { runs++; throw dup; }, DEADLOCK_ATTEMPTS, () => 1), (e) => e === dup);
  assert.equal(runs, 1);
});

test('the pauses grow from about 10 ms and are jittered ±50%', () => {
  assert.equal(deadlockPauseMs(1, () => 0), 5);
  assert.equal(deadlockPauseMs(1, () => 1), 15);
  assert.equal(deadlockPauseMs(3, () => 0.5), 40);
});
