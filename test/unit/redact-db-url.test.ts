// store/redact-db-url.ts: FN_DB_URL as Kiln shows it never has a password in it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactDbUrl } from '../../store/redact-db-url.js';

const cases: { name: string; url: string; want: string }[] = [
  // SQLite: a path, nothing to hide.
  { name: 'sqlite3 relative path', url: 'sqlite3://./data/fn.db', want: 'sqlite3://./data/fn.db' },
  { name: 'sqlite absolute path', url: 'sqlite:///var/lib/kiln/fn.db', want: 'sqlite:///var/lib/kiln/fn.db' },
  { name: 'sqlite3 in memory', url: 'sqlite3://:memory:', want: 'sqlite3://:memory:' },
  // PostgreSQL URLs.
  { name: 'postgres with a password', url: 'postgres://kiln:Secr3t@db:5432/kiln', want: 'postgres://kiln:***@db:5432/kiln' },
  { name: 'postgresql scheme', url: 'postgresql://kiln:Secr3t@db/kiln?sslmode=disable', want: 'postgresql://kiln:***@db/kiln?sslmode=disable' },
  { name: 'postgres with no password', url: 'postgres://kiln@db/kiln', want: 'postgres://kiln@db/kiln' },
  { name: 'postgres with no user info', url: 'postgres://db/kiln', want: 'postgres://db/kiln' },
  { name: 'postgres percent-encoded password', url: 'postgres://kiln:Se%40cr%2F3t@db/kiln', want: 'postgres://kiln:***@db/kiln' },
  { name: 'postgres password with a raw @', url: 'postgres://kiln:Se@cr3t@db/kiln', want: 'postgres://kiln:***@db/kiln' },
  { name: 'postgres password with a raw / (does not parse as a URL)', url: 'postgres://kiln:12/Secr3t@db/kiln', want: 'postgres://kiln:***@db/kiln' },
  { name: 'postgres password in the query', url: 'postgres://kiln@db/kiln?password=Secr3t&sslmode=require', want: 'postgres://kiln@db/kiln?password=***&sslmode=require' },
  // A raw '@' in a query password is no end of user info (pg takes it as it is).
  { name: 'postgres query password with a raw @', url: 'postgres://kiln@nosuchhost.invalid/fn?password=Secr3t@PW', want: 'postgres://kiln@nosuchhost.invalid/fn?password=***' },
  { name: 'postgres query password with a raw @ and no user', url: 'postgres://db.example/fn?password=p@ss&sslmode=require', want: 'postgres://db.example/fn?password=***&sslmode=require' },
  { name: 'mysql DSN query password with a raw @', url: 'mysql://root@tcp(db)/fn?password=x@y', want: 'mysql://root@tcp(db)/fn?password=***' },
  // A percent-encoded key is the same key (pg-connection-string decodes it).
  { name: 'postgres encoded query key, raw @ in its value', url: 'postgres://kiln@nosuchhost.invalid/fn?p%61ssword=Se@cr3t', want: 'postgres://kiln@nosuchhost.invalid/fn?p%61ssword=***' },
  // What looks like a query inside the user info may be the password's, or a query: read both
  // ways, everything either reading calls secret is masked (the host with it).
  { name: 'user info password holding &token=', url: 'postgres://kiln:x&token=y@nosuchhost.invalid/kiln', want: 'postgres://kiln:***' },
  { name: 'user info password holding ?key=', url: 'postgres://kiln:ab?key=cd@db/kiln', want: 'postgres://kiln:***' },
  // Both a user password and a query password with a raw @: both hidden, whatever the host shows.
  { name: 'a user password and a query password with a raw @', url: 'postgres://kiln:pw@db/fn?password=a@b', want: 'postgres://kiln:***' },
  { name: 'postgres the review’s unresolvable host', url: 'postgres://kiln:x@nosuchhost.invalid:5432/db', want: 'postgres://kiln:***@nosuchhost.invalid:5432/db' },
  // MySQL URLs and Fn's Go-DSN forms.
  { name: 'mysql URL', url: 'mysql://kiln:Secr3t@db:3306/funcs', want: 'mysql://kiln:***@db:3306/funcs' },
  { name: 'mysql DSN', url: 'mysql://root:Secr3t@tcp(db:3306)/funcs', want: 'mysql://root:***@tcp(db:3306)/funcs' },
  { name: 'mysql DSN password with / (review)', url: 'mysql://root:my/Secr3t@tcp(db:3306)/funcs', want: 'mysql://root:***@tcp(db:3306)/funcs' },
  { name: 'mysql DSN password with : (review)', url: 'mysql://root:pa:Secr3t@tcp(db:3306)/funcs', want: 'mysql://root:***@tcp(db:3306)/funcs' },
  { name: 'mysql DSN password with @', url: 'mysql://root:p@Secr3t@tcp(db:3306)/funcs', want: 'mysql://root:***@tcp(db:3306)/funcs' },
  { name: 'mysql DSN password with ?', url: 'mysql://root:p?Secr3t@tcp(db:3306)/funcs?tls=true', want: 'mysql://root:***@tcp(db:3306)/funcs?tls=true' },
  { name: 'mysql DSN with no database (review)', url: 'mysql://kiln:Secr3tPw@tcp(127.0.0.1:3306)', want: 'mysql://kiln:***@tcp(127.0.0.1:3306)' },
  { name: 'mysql DSN unix socket', url: 'mysql://kiln:Secr3t@unix(/run/mysqld/mysqld.sock)/funcs', want: 'mysql://kiln:***@unix(/run/mysqld/mysqld.sock)/funcs' },
  { name: 'mysql DSN short form', url: 'mysql://kiln:Secr3t@/funcs', want: 'mysql://kiln:***@/funcs' },
  { name: 'mysql DSN without a password', url: 'mysql://root@tcp(db)/funcs', want: 'mysql://root@tcp(db)/funcs' },
  { name: 'an @ in the query masks more, never less', url: 'mysql://root:Secr3t@db/funcs?x=a@b', want: 'mysql://root:***@b' },
  // What Kiln does not read: the scheme only.
  { name: 'another scheme', url: 'mongodb://u:Secr3t@h/db', want: 'mongodb://***' },
  { name: 'no scheme, with user info', url: 'root:Secr3t@tcp(db)/funcs', want: '***' },
  { name: 'no scheme, a plain name', url: 'fn.db', want: 'fn.db' },
  { name: 'empty', url: '', want: '' },
];

for (const c of cases) {
  test(`redactDbUrl: ${c.name}`, () => {
    const got = redactDbUrl(c.url);
    assert.equal(got, c.want);
    assert.doesNotMatch(got, /Secr3t/);
  });
}
