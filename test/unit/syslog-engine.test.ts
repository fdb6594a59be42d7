// What the engine is given for an app's syslog_url, and which of its create-time refusals are
// about that URL (they are the app's fault: 502, not a 503 to retry).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { syslogOf } from '../../agent/container-env.js';
import { syslogRefusal } from '../../drivers/docker/cookie.js';

const app = (syslog_url?: string) => ({ id: 'A1', ...(syslog_url !== undefined && { syslog_url }) });

const given: { name: string; url: string | undefined; want: string | undefined }[] = [
  { name: 'none', url: undefined, want: undefined },
  { name: 'blank', url: '  ', want: undefined },
  { name: 'as written', url: 'tcp://logs:514', want: 'tcp://logs:514' },
  { name: 'trimmed', url: ' udp://logs:514 ', want: 'udp://logs:514' },
  { name: 'the scheme lower-cased (the engine reads it case-sensitively), the rest kept', url: 'TCP+TLS://Logs.Example:6514', want: 'tcp+tls://Logs.Example:6514' },
  // Fn's tls is the engine's tcp+tls (the engine refuses tls://).
  { name: 'tls as the engine\'s tcp+tls', url: 'tls://logs.papertrailapp.com:1', want: 'tcp+tls://logs.papertrailapp.com:1' },
  { name: 'tls in any case, trimmed', url: ' TLS://Logs:6514 ', want: 'tcp+tls://Logs:6514' },
  { name: 'tls only as the scheme', url: 'udp://tls:514', want: 'udp://tls:514' },
];
for (const c of given) {
  test(`syslogOf: ${c.name}`, () => {
    const got = syslogOf(app(c.url), { id: 'F1' }).syslog;
    assert.equal(got?.url, c.want);
    if (got) assert.deepEqual(got.tags, [['app_id', 'A1'], ['fn_id', 'F1']]);
  });
}

// The engine's words (Docker 20.10), after dockerode's "(HTTP code 400) bad parameter - ".
const refusals: { name: string; message: string; url: string; want: boolean }[] = [
  { name: 'several URLs', message: '(HTTP code 400) bad parameter - address 127.0.0.1:6514,udp:: too many colons in address', url: 'tcp://127.0.0.1:6514,udp://127.0.0.1:514', want: true },
  { name: 'a scheme it does not take', message: '(HTTP code 400) bad parameter - syslog-address should be in form proto://address, got tls://logs:6514', url: 'tls://logs:6514', want: true },
  { name: 'a port that is not a number', message: '(HTTP code 400) bad parameter - parse "udp://host:abc": invalid port ":abc" after host', url: 'udp://host:abc', want: true },
  { name: 'something else', message: '(HTTP code 400) bad parameter - invalid environment variable: =c', url: 'udp://logs:514', want: false },
];
for (const c of refusals) {
  test(`syslogRefusal: ${c.name}`, () => assert.equal(syslogRefusal(c.message, c.url), c.want));
}
