// The API server's HTTP edges with a real function behind them: an `Expect: 100-continue`
// invoke gets its 100 once Kiln reads the body, then the function's answer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { RawConnection, statuses } from '../helpers/raw-http.js';

describe('HTTP edges with a function behind them', () => {
  let t: AgentSuite;
  let fnId = '';
  const raws: RawConnection[] = [];

  before(async () => {
    t = await agentSuite('http-edges');
    fnId = (await t.mkFn('echo')).id;
  });

  after(async () => {
    for (const c of raws) c.destroy();
    await t.close();
  });

  test('Expect: 100-continue on an invoke: 100 Continue, then after the body the function\'s answer', async () => {
    const c = await RawConnection.open(t.srv.url);
    raws.push(c);
    const body = 'expected body';
    await c.write(`POST /invoke/${fnId} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`);
    assert.ok(await c.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/, 5000), c.text);
    await c.write(body);
    assert.ok(await c.waitFor(/"body":"expected body"/, 30_000), c.text);
    assert.deepEqual(statuses(c.text), [100, 200]);
    assert.match(c.text, /\r\nFn-Call-Id: /i);
  });
});
