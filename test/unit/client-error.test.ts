// What a request the parser cannot read is answered with.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientErrorAnswer } from '../../api/client-error.js';

const cases: { code: string | undefined; reason?: string; status: number; message: RegExp }[] = [
  { code: 'HPE_INVALID_METHOD', reason: 'Invalid method encountered', status: 400, message: /^Invalid method: methods are case-sensitive/ },
  { code: 'HPE_HEADER_OVERFLOW', reason: 'Header overflow', status: 431, message: /^Request header fields too large: .* 1048576 bytes at most$/ },
  { code: 'ERR_HTTP_REQUEST_TIMEOUT', status: 408, message: /^Request timeout: .* within 60 s$/ },
  { code: 'HPE_CHUNK_EXTENSIONS_OVERFLOW', status: 413, message: /^Request chunk extensions too large$/ },
  { code: 'HPE_INVALID_HEADER_TOKEN', reason: 'Invalid header token', status: 400, message: /^Bad request: Invalid header token$/ },
  { code: 'HPE_INVALID_VERSION', reason: 'Invalid HTTP version', status: 400, message: /^Bad request: Invalid HTTP version$/ },
  { code: undefined, status: 400, message: /^Bad request: the request could not be parsed$/ },
];
for (const c of cases) {
  test(`clientErrorAnswer(${c.code}) is ${c.status}`, () => {
    const got = clientErrorAnswer(c.code, c.reason);
    assert.equal(got.status, c.status);
    assert.match(got.message, c.message);
  });
}
