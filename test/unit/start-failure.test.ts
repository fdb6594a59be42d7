// api/start-failure.ts: the line an operator reads when the server could not start names the
// setting at fault: FN_PORT or FN_HOST for the port's bind, FN_DB_URL (masked) for the database.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatabaseOpenError, ListenError, startFailure } from '../../api/start-failure.js';
import { DbUrlError } from '../../store/open.js';

const sysErr = (code: string, message: string, extra: Record<string, unknown> = {}): Error =>
  Object.assign(new Error(message), { code, ...extra });

const PG = 'postgres://kiln:Secr3t@nosuchhost.invalid:5432/db';

const cases: { name: string; err: unknown; want: RegExp }[] = [
  { name: 'port in use', err: new ListenError(sysErr('EADDRINUSE', 'listen EADDRINUSE', { address: '127.0.0.1', port: 8080 })), want: /^port 8080 on 127\.0\.0\.1 is already in use: set FN_PORT/ },
  { name: 'privileged port', err: new ListenError(sysErr('EACCES', 'listen EACCES', { port: 80 })), want: /^port 80 needs privileges .* FN_PORT/ },
  { name: 'FN_HOST not this host', err: new ListenError(sysErr('EADDRNOTAVAIL', 'listen EADDRNOTAVAIL')), want: /^FN_HOST is not an address of this host/ },
  { name: 'FN_HOST not resolved', err: new ListenError(sysErr('ENOTFOUND', 'getaddrinfo ENOTFOUND nohost')), want: /^FN_HOST is not an address of this host \(getaddrinfo ENOTFOUND nohost\)$/ },
  { name: 'FN_HOST resolver busy', err: new ListenError(sysErr('EAI_AGAIN', 'getaddrinfo EAI_AGAIN nohost')), want: /^FN_HOST is not an address/ },
  // The review's case: the database's host is no FN_HOST problem.
  {
    name: 'database host not found',
    err: new DatabaseOpenError(PG, sysErr('ENOTFOUND', 'getaddrinfo ENOTFOUND nosuchhost.invalid', { hostname: 'nosuchhost.invalid' })),
    want: /^FN_DB_URL host "nosuchhost\.invalid" not found: the database postgres:\/\/kiln:\*\*\*@nosuchhost\.invalid:5432\/db cannot be reached \(getaddrinfo ENOTFOUND nosuchhost\.invalid\)$/,
  },
  { name: 'database host not resolved for now', err: new DatabaseOpenError(PG, sysErr('EAI_AGAIN', 'getaddrinfo EAI_AGAIN h')), want: /^FN_DB_URL host not found: the database postgres:\/\/kiln:\*\*\*@/ },
  // Named as FN_DB_URL, masked: the bare driver message said neither which setting nor which database.
  { name: 'database refused', err: new DatabaseOpenError(PG, sysErr('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')), want: /^FN_DB_URL: the database postgres:\/\/kiln:\*\*\*@nosuchhost\.invalid:5432\/db cannot be reached \(connect ECONNREFUSED 127\.0\.0\.1:5432\)$/ },
  { name: 'database socket missing', err: new DatabaseOpenError('mysql://kiln:Secr3t@unix(/run/none.sock)/db', sysErr('ENOENT', 'connect ENOENT /run/none.sock')), want: /^FN_DB_URL: the database mysql:\/\/kiln:\*\*\*@unix\(\/run\/none\.sock\)\/db cannot be reached/ },
  { name: 'database login refused', err: new DatabaseOpenError(PG, sysErr('28P01', 'password authentication failed for user "kiln"')), want: /^FN_DB_URL: the database postgres:\/\/kiln:\*\*\*@.* refused its user, password or database name \(password authentication failed for user "kiln"\)$/ },
  { name: 'bad FN_DB_URL', err: new DatabaseOpenError(PG, new DbUrlError('FN_DB_URL "x": nope')), want: /^FN_DB_URL "x": nope$/ },
  // Not from the bind or the database: as it is.
  { name: 'another ENOTFOUND', err: sysErr('ENOTFOUND', 'getaddrinfo ENOTFOUND x'), want: /^getaddrinfo ENOTFOUND x$/ },
  { name: 'a settings error', err: new Error('invalid settings: FN_PORT'), want: /^invalid settings: FN_PORT$/ },
  { name: 'not an Error', err: 'boom', want: /^boom$/ },
];

for (const c of cases) {
  test(`startFailure: ${c.name}`, () => {
    const got = startFailure(c.err);
    assert.match(got, c.want);
    assert.doesNotMatch(got, /Secr3t/);
  });
}
