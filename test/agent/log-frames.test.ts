// Fn's log frames, end to end: an http-stream container is given FN_LOGFRAME_NAME/HDR, its
// function (the tester prints frames as the FDKs do) marks where each call's output begins,
// and each call's stored log is exactly its own, even when the last line before an answer
// reaches Kiln while the next call runs. Without frames that cut is by arrival, and under
// back-to-back calls about one call in ten lost its last line to the next.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LATE_LOG_DELAY_MS } from '../../agent/call-logs.js';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { call } from '../helpers/server.js';

interface Echo {
  env: Record<string, string>;
  pid: number;
}

describe('log frames', () => {
  let t: AgentSuite;

  before(async () => {
    t = await agentSuite('log-frames', { KILN_LOG_FRAMES: 'true' });
  });
  after(async () => {
    await t?.close();
  });

  const logOf = async (fnId: string, callId: string): Promise<string> =>
    String((await call(t.srv.url, 'GET', `/v2/fns/${fnId}/calls/${callId}/log`)).body.log);

  /** Runs `n` calls back to back, each logging `line-<i>` on both streams; their ids in order. */
  const backToBack = async (fnId: string, n: number, headers: Record<string, string> = {}): Promise<string[]> => {
    const ids: string[] = [];
    let pid: number | undefined;
    for (let i = 0; i < n; i++) {
      const r = await t.invoke(fnId, { log: `line-${i}` }, headers);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      pid ??= (r.body as Echo).pid;
      assert.equal((r.body as Echo).pid, pid, 'one container took every call');
      ids.push(r.headers.get('fn-call-id')!);
    }
    // Late output is stored again once it has gathered; then every record is written.
    await sleep(LATE_LOG_DELAY_MS * 3);
    await t.srv.agent.flushRecords();
    return ids;
  };

  test('200 back-to-back calls on one container: each stored log holds its own two lines, and no frame', async () => {
    const fn = await t.mkFn('framed');
    const ids = await backToBack(fn.id, 200);
    const wrong: string[] = [];
    for (const [i, id] of ids.entries()) {
      const log = await logOf(fn.id, id);
      // The lines are what the function printed; a frame split by the pipe may leave its newline.
      const lines = log.split('\n').filter(Boolean);
      if (lines.join() !== `line-${i},line-${i}` || /kiln_call=/.test(log)) wrong.push(`${i}: ${JSON.stringify(log)}`);
    }
    assert.deepEqual(wrong, [], `${wrong.length} of 200 calls' logs were not exactly their own`);
    const env = (await t.invoke(fn.id, {})).body as Echo;
    assert.equal(env.env.FN_LOGFRAME_NAME, 'kiln_call');
    assert.equal(env.env.FN_LOGFRAME_HDR, 'Fn-Call-Id');
  });

  test('without KILN_LOG_FRAMES a container gets no frame variables (two lines a call cost the warm path)', async () => {
    const plain = await agentSuite('log-frames-off');
    try {
      const fn = await plain.mkFn('unframed');
      const env = ((await plain.invoke(fn.id, {})).body as Echo).env;
      assert.equal(env.FN_LOGFRAME_NAME, undefined);
      assert.equal(env.FN_LOGFRAME_HDR, undefined);
    } finally {
      await plain.close();
    }
  });

  test("the user's own frame name with Fn-Call-Id is cut at and taken out", async () => {
    const fn = await t.mkFn('own-name', { config: { FN_LOGFRAME_NAME: 'my_frame', FN_LOGFRAME_HDR: 'fn-call-id' } });
    const ids = await backToBack(fn.id, 30);
    for (const [i, id] of ids.entries()) {
      const log = await logOf(fn.id, id);
      assert.deepEqual(log.split('\n').filter(Boolean), [`line-${i}`, `line-${i}`], `call ${i}: ${JSON.stringify(log)}`);
    }
  });

  test("the user's frames on another header are theirs: left in the output, the cut by arrival", async () => {
    const fn = await t.mkFn('other-header', { config: { FN_LOGFRAME_NAME: 'req', FN_LOGFRAME_HDR: 'X-Request-Id' } });
    const r = await t.invoke(fn.id, { log: 'mine' }, { 'X-Request-Id': 'r-1' });
    assert.equal(r.status, 200);
    assert.equal((r.body as Echo).env.FN_LOGFRAME_NAME, 'req', 'Kiln did not replace them');
    await sleep(LATE_LOG_DELAY_MS * 2);
    await t.srv.agent.flushRecords();
    const log = await logOf(fn.id, r.headers.get('fn-call-id')!);
    assert.equal(log.match(/\nreq=r-1\n/g)?.length, 2, log);
    assert.equal(log.match(/mine\n/g)?.length, 2, log);
  });
});
