// The API server's HTTP edges with a real function behind them: a request head far over Node's
// 16 KiB default reaches the function, and an `Expect: 100-continue` invoke gets its 100 once
// Kiln reads the body, then the function's answer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { RawConnection, statuses } from '../helpers/raw-http.js';

interface Echo {
  headers: Record<string, string>;
  body: string;
}

describe('HTTP edges with a function behind them', () => {
  let t: AgentSuite;
  let fnId = '';
  const raws: RawConnection[] = [];

  before(async () => {
    t = await agentSuite('http-edges');
    // The tester's own node:http server takes 16 KiB heads unless told otherwise; how a
    // function's server refusing a grown head is answered is another matter than Kiln's limit.
    fnId = (await t.mkFn('echo', { config: { NODE_OPTIONS: '--max-http-header-size=2097152' } })).id;
  });

  after(async () => {
    for (const c of raws) c.destroy();
    await t.close();
  });

  // Node's 16 KiB default answered a bare 431 before Kiln saw the request.
  test('a 100 KB request header reaches the function', async () => {
    const big = 'h'.repeat(100_000);
    const r = await t.invoke(fnId, 'hi', { 'x-big': big });
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
    const echo = r.body as Echo;
    assert.equal(echo.headers['x-big'], big);
    assert.equal(echo.body, 'hi');
  });

  test('Expect: 100-continue on an invoke: 100 Continue, then after the body the function\'s answer', async () => {
    const c = await RawConnection.open(t.srv.url);
    raws.push(c);
    const body = 'expected body';
    await c.write(`POST /invoke/${fnId} HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`);
    assert.ok(await c.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/, 5000), c.text);
    await c.write(body);
    assert.ok(await c.waitFor(/"body":"expected body"/, 30_000), c.text);
    assert.deepEqual(statuses(c.text), [100, 200]);
    assert.match(c.text, /\r\nFn-Call-Id: /i);
  });
});
