import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitDsn } from '../../store/mysql-dsn.js';

test('splitDsn: the database after the last /, the user up to the last @ before it', () => {
  const cases: [string, { slash: number; at: number; address: string }][] = [
    ['u:p@host:3306/db', { slash: 13, at: 3, address: 'host:3306' }],
    ['u:p@tcp(h:1)/db?x=1', { slash: 12, at: 3, address: 'tcp(h:1)' }],
    // A password holding @ and /: the last / and the last @ before it.
    ['u:p@/s@host:3306/db', { slash: 16, at: 6, address: 'host:3306' }],
    ['u:p@unix(/run/m.sock)/db', { slash: 21, at: 3, address: 'unix(/run/m.sock)' }],
    ['/db', { slash: 0, at: -1, address: '' }],
    // No /: no database; the address runs to the end.
    ['u:p@host:3306', { slash: -1, at: 3, address: 'host:3306' }],
    ['', { slash: -1, at: -1, address: '' }],
  ];
  for (const [dsn, want] of cases) assert.deepEqual(splitDsn(dsn), want, dsn);
});
